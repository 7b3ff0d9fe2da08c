using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace AudioConverter.Infrastructure.Notifications;

/// <summary>What one webhook attempt gave: the status (null when no answer came), how long it took, the answer's first bytes.</summary>
public sealed record WebhookResult(int? StatusCode, TimeSpan Duration, string Response)
{
    public bool Delivered => StatusCode is >= 200 and < 300;
}

/// <summary>
/// Posts one signed delivery. The connection goes through <see cref="WebhookTargets.ConnectAsync"/> (SSRF check on the
/// address actually connected), redirects are not followed, connect and total times are bounded.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    public const int ResponseBytesKept = 512;

    private readonly HttpClient client;
    private readonly TimeProvider clock;

    public WebhookSender(WebhookOptions options, WebhookTargets targets, TimeProvider clock)
    {
        this.clock = clock;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = options.ConnectTimeout,
            ConnectCallback = targets.ConnectAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxResponseHeadersLength = 16,
        };
        client = new HttpClient(handler) { Timeout = options.Timeout };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("AudioConverter-Webhooks", "1.0"));
    }

    public async Task<WebhookResult> SendAsync(string url, string secret, string messageId, string body, CancellationToken cancellationToken)
    {
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSignature.Sign(secret, messageId, timestamp, body));
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var start = await FirstBytesAsync(response, cancellationToken);
            return new WebhookResult((int)response.StatusCode, Stopwatch.GetElapsedTime(started), start);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or WebhookTargetException or IOException && !cancellationToken.IsCancellationRequested)
        {
            var reason = e is TaskCanceledException ? $"No answer within {client.Timeout.TotalSeconds:0} s." : Innermost(e).Message;
            return new WebhookResult(null, Stopwatch.GetElapsedTime(started), Cut(reason));
        }
    }

    private static async Task<string> FirstBytesAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[ResponseBytesKept];
            var filled = 0;
            while (filled < buffer.Length && await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken) is > 0 and var read)
            {
                filled += read;
            }

            return Encoding.UTF8.GetString(buffer, 0, filled);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return "(the answer's body could not be read)";
        }
    }

    private static Exception Innermost(Exception e) => e.InnerException is WebhookTargetException inner ? inner : e.InnerException ?? e;

    private static string Cut(string text) => text.Length <= ResponseBytesKept ? text : text[..ResponseBytesKept];

    public void Dispose() => client.Dispose();
}
