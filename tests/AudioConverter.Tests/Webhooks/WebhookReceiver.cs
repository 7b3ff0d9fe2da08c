using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace AudioConverter.Tests.Webhooks;

/// <summary>One request that reached the receiver, and whether the Standard Webhooks library accepted its signature.</summary>
public sealed record ReceivedWebhook(string Path, string WebhookId, string Body, bool SignatureValid, string? VerifyError)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A real HTTP server on 127.0.0.1 that receives deliveries and verifies every signature with the StandardWebhooks
/// package. Paths choose the answer: /ok, /fail/{n} (500 for the first n), /gone (410), /redirect (302 to /ok), /hang,
/// /hold (no answer until <see cref="Release"/>, then 200).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, int> failures = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WebhookReceiver(WebApplication app) => this.app = app;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>The secret of each path's endpoint, set by the test once the service has shown it.</summary>
    public ConcurrentDictionary<string, string> Secrets { get; } = new();

    private int hanging;

    public int HangingRequests => Volatile.Read(ref hanging);

    public string BaseUrl => app.Urls.First();

    /// <summary>Lets every held and future /hold request answer 200.</summary>
    public void Release() => released.TrySetResult();

    public string Url(string path) => BaseUrl + path;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    public IEnumerable<ReceivedWebhook> At(string path) => Received.Where(r => r.Path == path);

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        string? error = null;
        var valid = false;
        var key = path.StartsWith("/fail/", StringComparison.Ordinal) ? "/fail" : path;
        if (Secrets.TryGetValue(path, out var secret) || Secrets.TryGetValue(key, out secret))
        {
            try
            {
                new StandardWebhook(secret).Verify(body, context.Request.Headers);
                valid = true;
            }
            catch (WebhookVerificationException e)
            {
                error = e.Message;
            }
        }
        else
        {
            error = "no secret known for " + path;
        }

        Received.Enqueue(new ReceivedWebhook(path, context.Request.Headers["webhook-id"].ToString(), body, valid, error));
        if (path == "/gone")
        {
            context.Response.StatusCode = 410;
        }
        else if (path == "/redirect")
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = Url("/redirected");
        }
        else if (path == "/hang")
        {
            Interlocked.Increment(ref hanging);
            await Task.Delay(Timeout.Infinite, CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token).Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        else if (path == "/hold")
        {
            using var gone = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token);
            await released.Task.WaitAsync(gone.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            if (released.Task.IsCompleted && !context.RequestAborted.IsCancellationRequested)
            {
                await context.Response.WriteAsync("released");
            }
        }
        else if (path.StartsWith("/fail/", StringComparison.Ordinal))
        {
            var limit = int.Parse(path[6..], System.Globalization.CultureInfo.InvariantCulture);
            var count = failures.AddOrUpdate(path, 1, (_, n) => n + 1);
            context.Response.StatusCode = count <= limit ? 500 : 200;
            await context.Response.WriteAsync(count <= limit ? "temporarily broken" : "ok");
        }
        else
        {
            await context.Response.WriteAsync("thanks");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await app.StopAsync();
        await app.DisposeAsync();
        stopping.Dispose();
    }
}
