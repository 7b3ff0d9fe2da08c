using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AudioConverter.Infrastructure;

namespace AudioConverter.Server.Hosting;

/// <summary>
/// Checks before anything starts that the addresses to listen on are free, so the most common start-up failure
/// gets one line naming the address and the setting to change (Kestrel itself would log a stack trace first).
/// A port taken between this check and the bind is still reported in one line, by <see cref="StartupErrors"/>.
/// </summary>
public static class ListenAddresses
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    private static readonly string[] StandardAddressKeys = ["urls", "http_ports", "https_ports"];

    /// <summary>
    /// Where to listen. The standard settings win: --urls, Urls or ASPNETCORE_URLS, then ASPNETCORE_HTTP_PORTS /
    /// HTTP_PORTS (and the HTTPS ones); then PORT, as App Engine and Cloud Run set it (all interfaces); then the default,
    /// http://127.0.0.1:8080. The default is applied here rather than in appsettings.json, where it would hide the standard settings.
    /// </summary>
    public static void ChooseListenAddresses(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (StandardAddressKeys.Any(key => !string.IsNullOrWhiteSpace(configuration[key])))
        {
            return;
        }

        builder.WebHost.UseUrls(configuration["PORT"] is { Length: > 0 } port ? $"http://0.0.0.0:{port}" : DefaultUrl);
    }

    public static void EnsureFree(IConfiguration configuration)
    {
        foreach (var (url, endpoint) in Endpoints(configuration))
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = true;
            }

            try
            {
                socket.Bind(endpoint);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                throw new StartupConfigurationException(Message(url));
            }
            catch (SocketException)
            {
                // Not bindable for another reason (no IPv6, an address of another machine): Kestrel reports it.
            }
        }
    }

    public static string Message(string url) =>
        $"{url} is already in use (another program, or another AudioConverter, listens there); choose a free address with PORT=8081, --urls http://127.0.0.1:8081 or ASPNETCORE_URLS.";

    private static IEnumerable<(string Url, IPEndPoint Endpoint)> Endpoints(IConfiguration configuration)
    {
        if (configuration["urls"] is { Length: > 0 } urls)
        {
            foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                // Kestrel's wildcard hosts (*, +) are not URI hosts; any address stands in for them.
                var parsable = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
                if (!Uri.TryCreate(parsable, UriKind.Absolute, out var uri) || uri.Port <= 0)
                {
                    continue;
                }

                var address = uri.IsLoopback && !IPAddress.TryParse(uri.Host, out _) ? IPAddress.Loopback
                    : IPAddress.TryParse(uri.Host.Trim('[', ']'), out var parsed) ? parsed
                    : IPAddress.IPv6Any;
                yield return (url, new IPEndPoint(address, uri.Port));
            }

            yield break;
        }

        foreach (var key in new[] { "http_ports", "https_ports" })
        {
            foreach (var port in (configuration[key] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and <= 65535)
                {
                    yield return ($"port {number} ({key.ToUpperInvariant()})", new IPEndPoint(IPAddress.IPv6Any, number));
                }
            }
        }
    }
}
