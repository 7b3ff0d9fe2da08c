using System.Net;
using System.Net.Sockets;

namespace AudioConverter.Infrastructure.Notifications;

/// <summary>
/// What a webhook may point at. A URL is checked when it is saved (shape, and every address its host resolves to),
/// and again when each delivery connects (<see cref="ConnectAsync"/>), because DNS may answer differently later.
/// </summary>
public sealed class WebhookTargets(WebhookOptions options)
{
    /// <summary>A sentence saying what is wrong with <paramref name="url"/>, or null when it may be used.</summary>
    public async Task<string?> ProblemAsync(string? url, CancellationToken cancellationToken)
    {
        if (ShapeProblem(url) is { } shape)
        {
            return shape;
        }

        var uri = new Uri(url!);
        if (options.AllowPrivateTargets)
        {
            return null;
        }

        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
        }
        catch (SocketException)
        {
            return $"The host '{uri.Host}' of the webhook URL does not resolve; check its spelling.";
        }

        return addresses.Length == 0
            ? $"The host '{uri.Host}' of the webhook URL does not resolve; check its spelling."
            : addresses.FirstOrDefault(IsForbidden) is { } forbidden
                ? $"The webhook URL resolves to {forbidden}, a loopback, private, link-local or metadata address; use a public address."
                : null;
    }

    /// <summary>The checks that need no network: absolute http(s), a host, no credentials, no fragment, not too long.</summary>
    public static string? ShapeProblem(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return "Give the webhook URL, e.g. https://example.com/hooks/audio.";
        }

        if (url.Length > 2048)
        {
            return "The webhook URL is longer than 2048 characters.";
        }

        if (!url.Contains("://", StringComparison.Ordinal) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.Host)))
        {
            return $"'{url}' is not an absolute URL such as https://example.com/hooks/audio.";
        }

        if (uri.Scheme is not ("http" or "https"))
        {
            return $"The webhook URL must use http or https, not '{uri.Scheme}'.";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "The webhook URL must not carry a user name or password; verify the signature instead.";
        }

        return uri.Fragment.Length > 0 ? "The webhook URL must not have a #fragment." : null;
    }

    /// <summary>Loopback, private (RFC 1918, unique local), carrier-grade NAT, link-local (so cloud metadata), multicast, unspecified.</summary>
    public static bool IsForbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var first = address.GetAddressBytes();
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (first[0] & 0xFE) == 0xFC
                || (first[0] == 0x20 && first[1] == 0x01 && first[2] == 0x0d && first[3] == 0xb8);
        }

        var b = address.GetAddressBytes();
        return b[0] switch
        {
            0 or 10 or 127 => true,
            100 => b[1] is >= 64 and <= 127,
            169 => b[1] == 254,
            172 => b[1] is >= 16 and <= 31,
            192 => (b[1] == 168) || (b[1] == 0 && b[2] is 0 or 2),
            198 => b[1] is 18 or 19,
            >= 224 => true,
            _ => false,
        };
    }

    /// <summary>
    /// The delivery handler's connect step: resolves the host, refuses forbidden addresses (unless allowed), and connects
    /// to the first remaining one, so the address checked is the address used.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = options.AllowPrivateTargets ? addresses : addresses.Where(a => !IsForbidden(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new WebhookTargetException(addresses.Length == 0
                ? $"The host '{host}' does not resolve."
                : $"The host '{host}' resolves to {addresses[0]}, a loopback, private, link-local or metadata address; the delivery was not sent.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A delivery refused because its target is not allowed.</summary>
public sealed class WebhookTargetException(string message) : Exception(message);
