using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using Xunit.Abstractions;

namespace AudioConverter.Tests.Webhooks;

/// <summary>
/// The built server (role "both", SQLite) killed with SIGKILL right after status commits whose webhooks it has not
/// delivered, then started again on the same data: every webhook still arrives, at least once, with the same
/// webhook-id every time, each signature verified with the StandardWebhooks library.
/// </summary>
/// <remarks>
/// Deterministic, without sleeps: the dispatcher has one send slot (<c>Webhooks:MaxConcurrentSends=1</c>) and the
/// task.created delivery goes to a receiver path that does not answer until after the kill. So when the task is
/// processed (its status and its task.processed row committed), that webhook provably has not been sent, and the
/// created one has been sent but not marked: the kill hits both cases the outbox must survive.
/// </remarks>
[Collection(ProcessCollection.Name)]
public sealed class WebhookCrashTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task KilledWithSigkillAfterTheCommitTheWebhooksStillArriveWithTheSameWebhookIds()
    {
        var data = ServerProcess.NewDataDirectory();
        var settings = new Dictionary<string, string>
        {
            ["Webhooks:AllowPrivateTargets"] = "true",
            ["Webhooks:PollIntervalMilliseconds"] = "50",
            ["Webhooks:MaxConcurrentSends"] = "1",
            ["Webhooks:TimeoutSeconds"] = "10",
            ["Webhooks:RetryScheduleSeconds"] = "0.2, 0.4",
            ["Webhooks:Jitter"] = "0",
            ["Events:GapWaitSeconds"] = "0.5",
        };
        await using var receiver = await WebhookReceiver.StartAsync();
        try
        {
            System.Net.Http.Headers.AuthenticationHeaderValue token;
            long taskId;
            await using (var first = await ServerProcess.StartAsync(data, settings))
            {
                using var user = await first.CreateClient().NewUserAsync(first.CreateClient);
                token = user.DefaultRequestHeaders.Authorization!;
                receiver.Secrets["/hold"] = await CreateEndpointAsync(user, receiver.Url("/hold"), "task.created");
                receiver.Secrets["/ok"] = await CreateEndpointAsync(user, receiver.Url("/ok"), "task.processed");

                taskId = (await user.UploadOkAsync(AudioSamples.Get("mp3", 1), "song.mp3", "wav")).Id;
                await Deadline.UntilAsync(() => receiver.At("/hold").Any(), Wait, "the task.created delivery to reach the holding receiver");
                Assert.Equal("processed", (await user.WaitForTaskAsync(taskId)).Status);

                // The processed status is committed; its webhook waits for the one send slot, held by /hold.
                Assert.Empty(receiver.At("/ok"));
                first.KillHard();
                output.WriteLine($"killed after task {taskId} was processed; deliveries so far: {receiver.Received.Count}");
            }

            receiver.Release();
            await using var second = await ServerProcess.StartAsync(data, settings);
            using var again = second.CreateClient();
            again.DefaultRequestHeaders.Authorization = token;

            // The unsent one goes out at once; the sent-but-unmarked one again once its lease has expired.
            await Deadline.UntilAsync(() => receiver.At("/ok").Any() && receiver.At("/hold").Count() >= 2, Wait, "task.processed once and task.created again after the restart");

            var processed = receiver.At("/ok").ToList();
            var created = receiver.At("/hold").ToList();
            output.WriteLine($"/ok: {string.Join(", ", processed.Select(r => r.WebhookId))}; /hold: {string.Join(", ", created.Select(r => r.WebhookId))}");
            Assert.All(processed.Concat(created), r => Assert.True(r.SignatureValid, r.VerifyError));
            Assert.Single(processed.Select(r => r.WebhookId).Distinct());
            Assert.Single(created.Select(r => r.WebhookId).Distinct());
            Assert.NotEqual(created[0].WebhookId, processed[0].WebhookId);
            Assert.All(processed, r => Assert.Equal("task.processed", r.Json.GetProperty("type").GetString()));
            Assert.All(created, r => Assert.Equal("task.created", r.Json.GetProperty("type").GetString()));
            Assert.All(processed.Concat(created), r => Assert.Equal(taskId, r.Json.GetProperty("data").GetProperty("id").GetInt64()));
            Assert.Equal("processed", processed[0].Json.GetProperty("data").GetProperty("status").GetString());

            // The webhook-id is the one the delivery log shows for the message.
            var endpoints = await again.GetFromJsonAsync<JsonElement>("/api/webhooks", ApiClient.Json);
            var okId = endpoints.EnumerateArray().Single(e => e.GetProperty("url").GetString() == receiver.Url("/ok")).GetProperty("id").GetInt64();
            await Deadline.UntilAsync(
                async () => (await again.GetFromJsonAsync<JsonElement>($"/api/webhooks/{okId}/deliveries", ApiClient.Json)).EnumerateArray().ToList(),
                log => log.Count == 1 && log[0].GetProperty("status").GetString() == "delivered",
                Wait,
                log => $"the /ok delivery to be logged as delivered ({log.Count} entries)");
            var delivery = (await again.GetFromJsonAsync<JsonElement>($"/api/webhooks/{okId}/deliveries", ApiClient.Json)).EnumerateArray().Single();
            Assert.Equal(processed[0].WebhookId, delivery.GetProperty("webhookId").GetString());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<string> CreateEndpointAsync(HttpClient user, string url, string type)
    {
        var created = await user.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { type } });
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json)).GetProperty("secret").GetString()!;
    }
}
