using System.Net;
using System.Net.Http.Json;
using AudioConverter.Server.Files;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Files;

/// <summary>POST /api/links: a short-lived link that downloads one of the caller's files without the Authorization header, and nothing else.</summary>
public sealed class SignedLinkTests(SharedApp app) : IClassFixture<SharedApp>
{
    [Fact]
    public async Task ALinkDownloadsExactlyItsFileWithoutATokenAndNothingElse()
    {
        var owner = await app.NewUserAsync();
        var task = await owner.WaitForTaskAsync((await owner.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav")).Id);
        var answer = await (await owner.PostAsJsonAsync("/api/links", new { path = $"/api/tasks/{task.Id}/converted" })).Content.ReadFromJsonAsync<LinkResponse>(ApiClient.Json);
        var anonymous = app.Factory.CreateClient();

        var file = await anonymous.GetAsync(answer!.Url);
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal(("wav", "pcm_s16le"), AudioSamples.Probe(await file.Content.ReadAsByteArrayAsync(), "wav") is var p ? (p.Format, p.Codec) : default);

        var token = answer.Url[(answer.Url.IndexOf("link=", StringComparison.Ordinal) + 5)..];
        // The same link on another route, another task, tampered with, or without the Authorization-free route: 401.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/tasks/{task.Id}/original?link={token}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/tasks/{task.Id + 1}/converted?link={token}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/tasks/{task.Id}/converted?link={token[..^4]}AAAA")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/tasks?link=" + token)).StatusCode);

        // Another user's task: the link is signed as the caller, so it finds nothing.
        var stranger = await app.NewUserAsync();
        var foreign = await (await stranger.PostAsJsonAsync("/api/links", new { path = $"/api/tasks/{task.Id}/converted" })).Content.ReadFromJsonAsync<LinkResponse>(ApiClient.Json);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(foreign!.Url)).StatusCode);

        // Only file routes can be signed.
        foreach (var path in new[] { "/api/tasks", "/api/keys", $"/api/tasks/{task.Id}", "https://example.com/x", $"/api/tasks/{task.Id}/converted?x=1" })
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await owner.PostAsJsonAsync("/api/links", new { path })).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/links", new { path = $"/api/tasks/{task.Id}/converted" })).StatusCode);
    }
}
