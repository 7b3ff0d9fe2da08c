using System.Net;
using System.Text;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Security;

public sealed class OwnershipTests
{
    [Fact]
    public async Task AnotherUsersTasksAndFilesLookExactlyLikeOnesThatDoNotExist()
    {
        using var factory = new AppFactory();
        var anonymous = factory.CreateClient();
        var owner = await anonymous.NewUserAsync(factory.CreateClient);
        var intruder = await anonymous.NewUserAsync(factory.CreateClient);
        var task = await owner.UploadOkAsync(AudioSamples.Get("mp3"), "mine.mp3", "wav");
        var done = await owner.WaitForTaskAsync(task.Id);
        Assert.Equal("processed", done.Status);
        var originalName = done.OriginalUrl["/api/files/".Length..];
        var convertedName = done.ConvertedUrl!["/api/files/".Length..];
        const long unknownId = 987_654_321;
        const string unknownName = "0123456789abcdef0123456789abcdef.mp3";

        (HttpMethod Method, string Theirs, string Unknown)[] routes =
        [
            (HttpMethod.Get, $"/api/tasks/{task.Id}", $"/api/tasks/{unknownId}"),
            (HttpMethod.Put, $"/api/tasks/{task.Id}", $"/api/tasks/{unknownId}"),
            (HttpMethod.Delete, $"/api/tasks/{task.Id}", $"/api/tasks/{unknownId}"),
            (HttpMethod.Get, $"/api/tasks/{task.Id}/original", $"/api/tasks/{unknownId}/original"),
            (HttpMethod.Get, $"/api/tasks/{task.Id}/converted", $"/api/tasks/{unknownId}/converted"),
            (HttpMethod.Get, $"/api/download/{task.Id}", $"/api/download/{unknownId}"),
            (HttpMethod.Get, $"/api/files/{originalName}", $"/api/files/{unknownName}"),
            (HttpMethod.Get, $"/api/files/{convertedName}", $"/api/files/{unknownName}"),
        ];
        foreach (var (method, theirs, unknown) in routes)
        {
            var stolen = await intruder.SendAsync(Request(method, theirs));
            var missing = await intruder.SendAsync(Request(method, unknown));

            Assert.True(stolen.StatusCode == HttpStatusCode.NotFound, $"{method} {theirs} answered {(int)stolen.StatusCode}");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal(await Problem.WithoutTraceIdAsync(missing), await Problem.WithoutTraceIdAsync(stolen));
            Assert.Equal(missing.Content.Headers.ContentLength is null, stolen.Content.Headers.ContentLength is null);
        }

        // Nothing the intruder tried changed the owner's task.
        var after = await owner.WaitForTaskAsync(task.Id);
        Assert.Equal("processed", after.Status);
        Assert.Equal("wav", after.NewFormat);
        Assert.Equal(AudioSamples.Get("mp3"), await owner.GetByteArrayAsync($"/api/tasks/{task.Id}/original"));
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(done.ConvertedUrl)).StatusCode);
        Assert.DoesNotContain(await intruder.GetStringAsync("/api/tasks"), "mine.mp3", StringComparison.Ordinal);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path) =>
        new(method, path) { Content = method == HttpMethod.Put ? new StringContent("{\"newFormat\":\"flac\"}", Encoding.UTF8, "application/json") : null };
}
