using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Core.Tasks;
using AudioConverter.Tests.Events;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Webhooks;

/// <summary>Webhook endpoints through the real pipeline, deliveries to a real receiver that checks every signature with the StandardWebhooks library.</summary>
/// <remarks>
/// Run alone: the 10,000-delivery test measures this process's managed heap, which tests running beside it would
/// grow too (a CI run saw 271 MB that way).
/// </remarks>
[Collection(ProcessCollection.Name)]
public sealed class WebhookTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly AppFactory factory = new(Settings(allowPrivate: true));
    private WebhookReceiver receiver = null!;

    public static Dictionary<string, string?> Settings(bool allowPrivate) => new()
    {
        ["Webhooks:AllowPrivateTargets"] = allowPrivate ? "true" : "false",
        ["Webhooks:PollIntervalMilliseconds"] = "50",
        ["Webhooks:RetryScheduleSeconds"] = "0.2, 0.4",
        ["Webhooks:Jitter"] = "0",
        ["Webhooks:TimeoutSeconds"] = "2",
        ["Webhooks:ConnectTimeoutSeconds"] = "2",
        ["Events:GapWaitSeconds"] = "0.5",
    };

    public async Task InitializeAsync() => receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await receiver.DisposeAsync();
        await factory.DisposeAsync();
    }

    [Fact]
    public async Task TheSecretIsShownOnceAtCreationAndOnRotationAndEndpointsAreTheirOwnersOnly()
    {
        var client = await NewUserAsync();
        var created = await client.PostAsJsonAsync("/api/webhooks", new { url = receiver.Url("/ok"), events = new[] { "task.processed" }, description = "build farm" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json);
        var id = body.GetProperty("id").GetInt64();
        var secret = body.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(24, Convert.FromBase64String(secret[6..]).Length);
        Assert.Equal(["task.processed"], body.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal($"/api/webhooks/{id}", created.Headers.Location?.OriginalString);

        var listed = await client.GetFromJsonAsync<JsonElement>("/api/webhooks", ApiClient.Json);
        var one = Assert.Single(listed.EnumerateArray());
        Assert.Equal(JsonValueKind.Null, one.GetProperty("secret").ValueKind);
        var got = await client.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}", ApiClient.Json);
        Assert.Equal(JsonValueKind.Null, got.GetProperty("secret").ValueKind);
        Assert.Equal("build farm", got.GetProperty("description").GetString());

        var rotated = await (await client.PostAsync($"/api/webhooks/{id}/rotate-secret", null)).Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json);
        Assert.NotEqual(secret, rotated.GetProperty("secret").GetString());

        var updated = await client.PutAsJsonAsync($"/api/webhooks/{id}", new { url = receiver.Url("/ok2"), events = new[] { "task.failed", "task.processed" } });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(receiver.Url("/ok2"), (await updated.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json)).GetProperty("url").GetString());

        var stranger = await NewUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/api/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/webhooks/{id}/deliveries")).StatusCode);
        Assert.Empty((await stranger.GetFromJsonAsync<JsonElement>("/api/webhooks", ApiClient.Json)).EnumerateArray());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/webhooks/{id}")).StatusCode);
    }

    [Theory]
    [InlineData("not a url", "is not an absolute URL")]
    [InlineData("/relative/path", "is not an absolute URL")]
    [InlineData("ftp://example.com/hook", "must use http or https")]
    [InlineData("file:///etc/passwd", "must use http or https")]
    [InlineData("https://user:secret@example.com/hook", "must not carry a user name or password")]
    [InlineData("", "Give the webhook URL")]
    public async Task AMalformedUrlIsRefusedWithTheReason(string url, string expected)
    {
        var client = await NewUserAsync();
        var response = await client.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { "task.processed" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, (await response.ProblemAsync()).GetProperty("errors").GetProperty("url")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownEventTypesAreRefused()
    {
        var client = await NewUserAsync();
        var response = await client.PostAsJsonAsync("/api/webhooks", new { url = receiver.Url("/ok"), events = new[] { "task.exploded" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Unknown event type 'task.exploded'", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADeliveryIsSignedAsStandardWebhooksSaysAndLogged()
    {
        var client = await NewUserAsync();
        var (id, secret) = await CreateAsync(client, "/ok", "task.processed");
        receiver.Secrets["/ok"] = secret;
        var userId = await FeedRows.UserIdAsync(client);

        await FeedRows.AppendAsync(factory.Services, userId, 5, TaskEventTypes.Created);
        var processed = await FeedRows.AppendAsync(factory.Services, userId, 5, TaskEventTypes.Processed);
        await Deadline.UntilAsync(() => receiver.At("/ok").Any(), Wait, "the delivery");

        var received = Assert.Single(receiver.At("/ok"));
        Assert.True(received.SignatureValid, received.VerifyError);
        Assert.Equal($"msg_{processed.Id}", received.WebhookId);
        Assert.Equal("task.processed", received.Json.GetProperty("type").GetString());
        Assert.Equal(5, received.Json.GetProperty("data").GetProperty("id").GetInt64());
        Assert.True(DateTimeOffset.TryParse(received.Json.GetProperty("timestamp").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));

        var log = await DeliveriesAsync(client, id, d => d.GetProperty("status").GetString() == "delivered");
        var delivery = Assert.Single(log);
        var attempt = Assert.Single(delivery.GetProperty("attemptLog").EnumerateArray());
        Assert.Equal(200, attempt.GetProperty("statusCode").GetInt32());
        Assert.Equal("thanks", attempt.GetProperty("response").GetString());
        Assert.Equal($"msg_{processed.Id}", delivery.GetProperty("webhookId").GetString());

        // Redelivery: the same webhook-id again, so a receiver can tell it already has it.
        var again = await client.PostAsync($"/api/webhooks/{id}/deliveries/{delivery.GetProperty("id").GetInt64()}/redeliver", null);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        await Deadline.UntilAsync(() => receiver.At("/ok").Count() == 2, Wait, "the redelivery");
        Assert.All(receiver.At("/ok"), r => Assert.Equal($"msg_{processed.Id}", r.WebhookId));
        Assert.All(receiver.At("/ok"), r => Assert.True(r.SignatureValid, r.VerifyError));
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/api/webhooks/{id}/deliveries/999999/redeliver", null)).StatusCode);
    }

    [Fact]
    public async Task A500IsRetriedWithBackoffUnderTheSameWebhookIdUntilItSucceeds()
    {
        var client = await NewUserAsync();
        var (id, secret) = await CreateAsync(client, "/fail/2", "task.failed");
        receiver.Secrets["/fail/2"] = secret;
        var userId = await FeedRows.UserIdAsync(client);
        var failed = await FeedRows.AppendAsync(factory.Services, userId, 9, TaskEventTypes.Failed);

        var delivery = Assert.Single(await DeliveriesAsync(client, id, d => d.GetProperty("status").GetString() == "delivered"));

        Assert.Equal([500, 500, 200], delivery.GetProperty("attemptLog").EnumerateArray().Select(a => a.GetProperty("statusCode").GetInt32()));
        Assert.Equal("temporarily broken", delivery.GetProperty("attemptLog")[0].GetProperty("response").GetString());
        Assert.Equal(3, receiver.At("/fail/2").Count());
        Assert.All(receiver.At("/fail/2"), r => Assert.Equal($"msg_{failed.Id}", r.WebhookId));
        Assert.All(receiver.At("/fail/2"), r => Assert.True(r.SignatureValid, r.VerifyError));
    }

    [Fact]
    public async Task A410DisablesTheEndpoint()
    {
        var client = await NewUserAsync();
        var (id, secret) = await CreateAsync(client, "/gone", "task.processed");
        receiver.Secrets["/gone"] = secret;
        var userId = await FeedRows.UserIdAsync(client);
        await FeedRows.AppendAsync(factory.Services, userId, 11, TaskEventTypes.Processed);

        var delivery = Assert.Single(await DeliveriesAsync(client, id, d => d.GetProperty("status").GetString() == "failed"));
        Assert.Equal(410, Assert.Single(delivery.GetProperty("attemptLog").EnumerateArray()).GetProperty("statusCode").GetInt32());
        var endpoint = await client.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}", ApiClient.Json);
        Assert.False(endpoint.GetProperty("enabled").GetBoolean());
        Assert.Contains("410 Gone", endpoint.GetProperty("disabledReason").GetString(), StringComparison.Ordinal);

        // Later events are not delivered to a disabled endpoint; a marker on another endpoint shows the dispatcher passed them.
        var (markerId, markerSecret) = await CreateAsync(client, "/ok", "task.processed");
        receiver.Secrets["/ok"] = markerSecret;
        await FeedRows.AppendAsync(factory.Services, userId, 12, TaskEventTypes.Processed);
        await Deadline.UntilAsync(() => receiver.At("/ok").Any(), Wait, "the marker delivery");
        Assert.Single(receiver.At("/gone"));
        Assert.Single((await client.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}/deliveries", ApiClient.Json)).EnumerateArray());
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/webhooks/{id}/deliveries/{delivery.GetProperty("id").GetInt64()}/redeliver", null)).StatusCode);
        Assert.NotEqual(id, markerId);
    }

    [Fact]
    public async Task ARedirectIsNotFollowedAndCountsAsAFailedAttemptToRetry()
    {
        var client = await NewUserAsync();
        var (id, secret) = await CreateAsync(client, "/redirect", "task.processed");
        receiver.Secrets["/redirect"] = secret;
        var userId = await FeedRows.UserIdAsync(client);
        await FeedRows.AppendAsync(factory.Services, userId, 13, TaskEventTypes.Processed);

        var delivery = Assert.Single(await DeliveriesAsync(client, id, d => d.GetProperty("attemptLog").GetArrayLength() >= 3));

        Assert.All(delivery.GetProperty("attemptLog").EnumerateArray(), a => Assert.Equal(302, a.GetProperty("statusCode").GetInt32()));
        Assert.Equal("pending", delivery.GetProperty("status").GetString());
        Assert.Empty(receiver.At("/redirected"));
    }

    [Fact]
    public async Task AHangingReceiverTimesOutWithoutHoldingUpAnotherReceiver()
    {
        var client = await NewUserAsync();
        var (hangId, hangSecret) = await CreateAsync(client, "/hang", "task.processed");
        receiver.Secrets["/hang"] = hangSecret;
        var userId = await FeedRows.UserIdAsync(client);
        await FeedRows.AppendAsync(factory.Services, userId, 14, TaskEventTypes.Processed);
        await Deadline.UntilAsync(() => receiver.HangingRequests > 0, Wait, "the hanging request");

        // While the first receiver holds its request open, another endpoint's delivery goes out.
        var (_, okSecret) = await CreateAsync(client, "/ok", "task.processed");
        receiver.Secrets["/ok"] = okSecret;
        await FeedRows.AppendAsync(factory.Services, userId, 15, TaskEventTypes.Processed);
        await Deadline.UntilAsync(() => receiver.At("/ok").Any(r => r.Json.GetProperty("data").GetProperty("id").GetInt64() == 15), Wait, "the other receiver's delivery");

        var hung = await DeliveriesAsync(client, hangId, d => d.GetProperty("attemptLog").GetArrayLength() >= 1);
        var attempt = hung[0].GetProperty("attemptLog")[0];
        Assert.Equal(JsonValueKind.Null, attempt.GetProperty("statusCode").ValueKind);
        Assert.Contains("No answer within 2 s", attempt.GetProperty("response").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://192.168.0.10/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[fd00:ec2::254]/hook")]
    [InlineData("http://100.64.0.1/hook")]
    public async Task APrivateLoopbackOrMetadataTargetIsRefusedUnlessAllowed(string url)
    {
        await using var strict = new AppFactory(Settings(allowPrivate: false));
        var client = await strict.CreateClient().NewUserAsync(strict.CreateClient);
        var response = await client.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { "task.processed" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("loopback, private, link-local or metadata address", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TenThousandQueuedDeliveriesAreFannedOutAndSentInBatchesWhileMemoryStaysFlat()
    {
        var client = await NewUserAsync();
        var (id, secret) = await CreateAsync(client, "/bulk", "task.progress");
        receiver.Secrets["/bulk"] = secret;
        var userId = await FeedRows.UserIdAsync(client);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        await FeedRows.AppendManyAsync(factory.Services, userId, TaskEventTypes.Progress, 10_000);

        long peak = 0;
        await Deadline.UntilAsync(
            async () =>
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                await using var scope = factory.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AudioConverter.Infrastructure.Data.AppDbContext>();
                return await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.Outbox, m => m.EndpointId == id) == 10_000
                    && receiver.At("/bulk").Select(r => r.WebhookId).Distinct().Count() >= 1_000;
            },
            TimeSpan.FromMinutes(4),
            "10,000 deliveries queued and the first 1,000 sent");

        // Every one of the 10,000 events became a delivery; sending goes on in batches of free slots, each signed.
        Assert.All(receiver.At("/bulk").Take(200), r => Assert.True(r.SignatureValid, r.VerifyError));
        Assert.True(peak - before < 200L * 1024 * 1024, $"managed heap grew by {(peak - before) / (1024 * 1024)} MB while 10,000 deliveries were queued");
    }

    private async Task<HttpClient> NewUserAsync() => await factory.CreateClient().NewUserAsync(factory.CreateClient);

    private async Task<(long Id, string Secret)> CreateAsync(HttpClient client, string path, params string[] events)
    {
        var response = await client.PostAsJsonAsync("/api/webhooks", new { url = receiver.Url(path), events });
        if (response.StatusCode != HttpStatusCode.Created)
        {
            Assert.Fail($"create answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json);
        return (body.GetProperty("id").GetInt64(), body.GetProperty("secret").GetString()!);
    }

    private static async Task<List<JsonElement>> DeliveriesAsync(HttpClient client, long endpointId, Func<JsonElement, bool> until)
    {
        List<JsonElement> deliveries = [];
        await Deadline.UntilAsync(
            async () =>
            {
                deliveries = [.. (await client.GetFromJsonAsync<JsonElement>($"/api/webhooks/{endpointId}/deliveries", ApiClient.Json)).EnumerateArray()];
                return deliveries.Count > 0 && deliveries.All(until);
            },
            Wait,
            $"the deliveries of endpoint {endpointId}");
        return deliveries;
    }
}
