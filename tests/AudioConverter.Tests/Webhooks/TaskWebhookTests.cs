using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Webhooks;

/// <summary>
/// A task's own webhookUrl, given as the upload's multipart field or in the PUT body: checked like /api/webhooks URLs,
/// signed with a secret the answer shows once, and told only about that task.
/// </summary>
public sealed class TaskWebhookTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly AppFactory factory = new(WebhookTests.Settings(allowPrivate: true));
    private WebhookReceiver receiver = null!;

    public async Task InitializeAsync() => receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await receiver.DisposeAsync();
        await factory.DisposeAsync();
    }

    [Fact]
    public async Task AnUploadsWebhookUrlHearsOnlyItsOwnTaskSignedWithTheSecretShownOnce()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var hooked = await UploadAsync(client, "hooked.mp3", ("webhookUrl", receiver.Url("/ok")));
        Assert.Equal(HttpStatusCode.Created, hooked.StatusCode);
        var body = await hooked.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json);
        var secret = body.GetProperty("webhookSecret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        receiver.Secrets["/ok"] = secret;
        var hookedId = body.GetProperty("id").GetInt64();

        var plain = await client.UploadOkAsync(AudioSamples.Get("mp3", 1), "plain.mp3", "wav");
        Assert.Equal("processed", (await client.WaitForTaskAsync(plain.Id)).Status);
        Assert.Equal("processed", (await client.WaitForTaskAsync(hookedId)).Status);
        await Deadline.UntilAsync(() => receiver.At("/ok").Any(), Wait, "the task's webhook");

        var received = Assert.Single(receiver.At("/ok"));
        Assert.True(received.SignatureValid, received.VerifyError);
        Assert.Equal("task.processed", received.Json.GetProperty("type").GetString());
        Assert.Equal(hookedId, received.Json.GetProperty("data").GetProperty("id").GetInt64());

        // The secret is not shown again, and the task's endpoint is not one of the account's endpoints.
        var got = await client.GetFromJsonAsync<JsonElement>($"/api/tasks/{hookedId}", ApiClient.Json);
        Assert.False(got.TryGetProperty("webhookSecret", out _));
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/webhooks", ApiClient.Json)).EnumerateArray());

        // Later tasks, the owner's and a stranger's, never reach it. A last task with a webhookUrl of its own marks the
        // point by which their deliveries, fanned out in event order before its own, would have arrived.
        var stranger = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var theirs = await stranger.UploadOkAsync(AudioSamples.Get("mp3", 1), "theirs.mp3", "wav");
        var later = await client.UploadOkAsync(AudioSamples.Get("mp3", 1), "later.mp3", "wav");
        Assert.Equal("processed", (await stranger.WaitForTaskAsync(theirs.Id)).Status);
        Assert.Equal("processed", (await client.WaitForTaskAsync(later.Id)).Status);
        var sentinel = await UploadAsync(client, "sentinel.mp3", ("webhookUrl", receiver.Url("/sentinel")));
        receiver.Secrets["/sentinel"] = (await sentinel.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json)).GetProperty("webhookSecret").GetString()!;
        await Deadline.UntilAsync(() => receiver.At("/sentinel").Any(), Wait, "the last task's webhook");
        Assert.True(Assert.Single(receiver.At("/sentinel")).SignatureValid);
        Assert.Single(receiver.At("/ok"));
    }

    [Fact]
    public async Task APutsWebhookUrlIsCalledWhenTheReconversionEnds()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3", 1), "song.mp3", "wav");
        Assert.Equal("processed", (await client.WaitForTaskAsync(task.Id)).Status);
        Assert.Empty(receiver.At("/put"));

        var put = await client.PutAsJsonAsync($"/api/tasks/{task.Id}", new { newFormat = "ogg", webhookUrl = receiver.Url("/put") });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        receiver.Secrets["/put"] = (await put.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json)).GetProperty("webhookSecret").GetString()!;
        await Deadline.UntilAsync(() => receiver.At("/put").Any(), Wait, "the reconversion's webhook");

        var received = Assert.Single(receiver.At("/put"));
        Assert.True(received.SignatureValid, received.VerifyError);
        Assert.Equal("ogg", received.Json.GetProperty("data").GetProperty("newFormat").GetString());
        Assert.Equal(task.Id, received.Json.GetProperty("data").GetProperty("id").GetInt64());

        // A second PUT moves the same endpoint to a new URL, keeping its secret (not shown again).
        receiver.Secrets["/put2"] = receiver.Secrets["/put"];
        var moved = await client.PutAsJsonAsync($"/api/tasks/{task.Id}", new { newFormat = "flac", webhookUrl = receiver.Url("/put2") });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.False((await moved.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json)).TryGetProperty("webhookSecret", out _));
        await Deadline.UntilAsync(() => receiver.At("/put2").Any(), Wait, "the second reconversion's webhook");
        Assert.True(Assert.Single(receiver.At("/put2")).SignatureValid);
        Assert.Single(receiver.At("/put"));
    }

    [Theory]
    [InlineData("not a url", "is not an absolute URL")]
    [InlineData("ftp://example.com/hook", "must use http or https")]
    [InlineData("https://user:secret@example.com/hook", "must not carry a user name or password")]
    [InlineData("http://10.1.2.3/hook", "a loopback, private, link-local or metadata address")]
    [InlineData("http://127.0.0.1:9/hook", "a loopback, private, link-local or metadata address")]
    [InlineData("http://169.254.169.254/latest/meta-data", "a loopback, private, link-local or metadata address")]
    public async Task ABadWebhookUrlIsRefusedOnUploadAndOnPutWithTheReason(string url, string expected)
    {
        await using var strict = new AppFactory(WebhookTests.Settings(allowPrivate: false));
        var client = await strict.CreateClient().NewUserAsync(strict.CreateClient);

        var upload = await UploadAsync(client, "song.mp3", ("webhookUrl", url));
        Assert.Equal(HttpStatusCode.BadRequest, upload.StatusCode);
        Assert.Contains(expected, (await upload.ProblemAsync()).GetProperty("errors").GetProperty("webhookUrl")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/tasks", ApiClient.Json)).GetArrayLength());

        var task = await client.UploadOkAsync(AudioSamples.Get("mp3", 1), "song.mp3", "wav");
        Assert.Equal("processed", (await client.WaitForTaskAsync(task.Id)).Status);
        var put = await client.PutAsJsonAsync($"/api/tasks/{task.Id}", new { newFormat = "ogg", webhookUrl = url });
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains(expected, (await put.ProblemAsync()).GetProperty("errors").GetProperty("webhookUrl")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("wav", (await client.GetFromJsonAsync<JsonElement>($"/api/tasks/{task.Id}", ApiClient.Json)).GetProperty("newFormat").GetString());
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string fileName, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(AudioSamples.Get("mp3", 1)), "fileName", fileName);
        form.Add(new StringContent("wav"), "newFormat");
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return await client.PostAsync("/api/tasks", form);
    }
}
