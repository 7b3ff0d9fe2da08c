using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using AudioConverter.Tests.Webhooks;

namespace AudioConverter.Tests.Events;

/// <summary>A real upload and ffmpeg conversion, seen on the event stream and by a signed webhook, from the rows the transitions write.</summary>
public sealed class ConversionEventTests
{
    [Fact]
    public async Task ARealConversionStreamsCreatedThenProcessedAndItsWebhookArrivesSigned()
    {
        var settings = WebhookTests.Settings(allowPrivate: true);
        settings["Events:PollIntervalMilliseconds"] = "100";
        await using var receiver = await WebhookReceiver.StartAsync();
        using var factory = KestrelApp.Start(settings);
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var created = await client.PostAsJsonAsync("/api/webhooks", new { url = receiver.Url("/ok"), events = new[] { "task.processed" } });
        receiver.Secrets["/ok"] = (await created.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json)).GetProperty("secret").GetString()!;
        await using var stream = await SseStream.OpenAsync(client);

        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");
        Assert.Equal("processed", (await client.WaitForTaskAsync(task.Id)).Status);

        var seen = new List<SseMessage>();
        while (seen.LastOrDefault()?.Event != "task.processed")
        {
            seen.Add(await stream.NextAsync());
        }

        Assert.Equal("task.created", seen[0].Event);
        Assert.All(seen, m => Assert.Equal(task.Id, JsonDocument.Parse(m.Data).RootElement.GetProperty("id").GetInt64()));
        Assert.Equal("processed", JsonDocument.Parse(seen[^1].Data).RootElement.GetProperty("status").GetString());

        await Deadline.UntilAsync(() => receiver.At("/ok").Any(), TimeSpan.FromSeconds(60), "the task.processed webhook");
        var hook = Assert.Single(receiver.At("/ok"));
        Assert.True(hook.SignatureValid, hook.VerifyError);
        Assert.Equal($"msg_{seen[^1].Id}", hook.WebhookId);
        Assert.Equal(task.Id, hook.Json.GetProperty("data").GetProperty("id").GetInt64());
    }
}
