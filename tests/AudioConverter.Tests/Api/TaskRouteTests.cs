using System.Net;
using System.Net.Http.Json;
using AudioConverter.Core.Tasks;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Api;

/// <summary>List, get, re-convert and delete, with no worker running so statuses stay as the test sets them.</summary>
public sealed class TaskRouteTests(ApiOnlyApp app) : IClassFixture<ApiOnlyApp>
{
    [Fact]
    public async Task TheListHoldsOnlyTheCallersTasksOldestFirstByDefault()
    {
        var client = await app.NewUserAsync();
        var other = await app.NewUserAsync();
        var first = await client.UploadOkAsync(AudioSamples.Get("mp3"), "1.mp3", "wav");
        var second = await client.UploadOkAsync(AudioSamples.Get("mp3"), "2.mp3", "ogg");
        await other.UploadOkAsync(AudioSamples.Get("mp3"), "theirs.mp3", "wav");

        var tasks = await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json);

        Assert.Equal([first.Id, second.Id], tasks!.Select(t => t.Id));
    }

    [Fact]
    public async Task OrderOneListsNewestFirstAndMaxCapsTheCount()
    {
        var client = await app.NewUserAsync();
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await client.UploadOkAsync(AudioSamples.Get("mp3"), $"{i}.mp3", "wav")).Id);
        }

        var newest = await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks?order=1&max=2", ApiClient.Json);
        var oldest = await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks?order=0&max=1", ApiClient.Json);

        Assert.Equal([ids[2], ids[1]], newest!.Select(t => t.Id));
        Assert.Equal([ids[0]], oldest!.Select(t => t.Id));
    }

    [Theory]
    [InlineData("max=-1", "max")]
    [InlineData("max=abc", "max")]
    [InlineData("max=0", "max")]
    [InlineData("max=1001", "max")]
    [InlineData("max=1.5", "max")]
    [InlineData("order=7", "order")]
    [InlineData("order=newest", "order")]
    public async Task AListQueryOutOfRangeIsABadRequestNamingTheParameter(string query, string field)
    {
        var client = await app.NewUserAsync();
        var response = await client.GetAsync($"/api/tasks?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task GetReturnsTheTask()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("flac"), "tune.flac", "mp3");

        var fetched = await client.GetFromJsonAsync<TaskResponse>($"/api/tasks/{task.Id}", ApiClient.Json);

        Assert.Equal(task.Id, fetched!.Id);
        Assert.Equal("tune.flac", fetched.FileName);
        Assert.Equal("mp3", fetched.NewFormat);
    }

    [Fact]
    public async Task AnUnknownIdAndAnotherUsersIdAnswerTheSame404()
    {
        var owner = await app.NewUserAsync();
        var stranger = await app.NewUserAsync();
        var task = await owner.UploadOkAsync(AudioSamples.Get("mp3"), "mine.mp3", "wav");

        foreach (var (method, path) in RoutesOf(task.Id))
        {
            var theirs = await stranger.SendAsync(Request(method, path));
            var unknown = await stranger.SendAsync(Request(method, path.Replace($"/{task.Id}", "/999999999", StringComparison.Ordinal)));
            Assert.True(theirs.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)theirs.StatusCode}");
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            var a = await theirs.ProblemAsync();
            var b = await unknown.ProblemAsync();
            Assert.Equal(a.GetProperty("detail").GetString(), b.GetProperty("detail").GetString());
        }

        // The owner still has it, untouched.
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/tasks/{task.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(task.OriginalUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(task.OriginalUrl)).StatusCode);
    }

    [Fact]
    public async Task PutQueuesTheTaskAgainInTheNewFormat()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");
        await app.SetStatusAsync(task.Id, ConversionStatus.Failed);

        var response = await client.PutAsJsonAsync($"/api/tasks/{task.Id}", new { newFormat = "opus" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var updated = (await response.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!;
        Assert.Equal("opus", updated.NewFormat);
        Assert.Equal("uploaded", updated.Status);
        Assert.Null(updated.Error);
        Assert.Null(updated.ConvertedUrl);
    }

    [Theory]
    [InlineData("{\"newFormat\": \"nope\"}", "newFormat")]
    [InlineData("{\"newFormat\": \"wav\", \"bitrate\": 128}", "bitrate")]
    [InlineData("{broken", "body")]
    public async Task PutWithABadBodyIsABadRequest(string body, string field)
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");

        var response = await client.PutAsync($"/api/tasks/{task.Id}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task PutAndDeleteWhileProcessingAreConflicts()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");
        await app.SetStatusAsync(task.Id, ConversionStatus.Processing);

        var put = await client.PutAsJsonAsync($"/api/tasks/{task.Id}", new { newFormat = "flac" });
        var delete = await client.DeleteAsync($"/api/tasks/{task.Id}");

        Assert.Equal(HttpStatusCode.Conflict, put.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        Assert.Contains("being converted", (await put.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await delete.ProblemAsync();
        var unchanged = await client.GetFromJsonAsync<TaskResponse>($"/api/tasks/{task.Id}", ApiClient.Json);
        Assert.Equal("wav", unchanged!.NewFormat);
    }

    [Fact]
    public async Task DeleteRemovesTheRowAndItsFile()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");
        var stored = Path.Combine(app.Factory.DataDirectory, "blobs", "originals", task.OriginalUrl.Split('/')[^1]);
        Assert.True(File.Exists(stored));

        var response = await client.DeleteAsync($"/api/tasks/{task.Id}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/tasks/{task.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(task.OriginalUrl)).StatusCode);
        Assert.False(File.Exists(stored));
    }

    [Fact]
    public async Task ANonNumericIdIsNotFound()
    {
        var client = await app.NewUserAsync();
        var response = await client.GetAsync("/api/tasks/abc");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.ProblemAsync();
    }

    private static IEnumerable<(HttpMethod, string)> RoutesOf(long id) =>
    [
        (HttpMethod.Get, $"/api/tasks/{id}"),
        (HttpMethod.Put, $"/api/tasks/{id}"),
        (HttpMethod.Delete, $"/api/tasks/{id}"),
        (HttpMethod.Get, $"/api/tasks/{id}/original"),
        (HttpMethod.Get, $"/api/tasks/{id}/converted"),
        (HttpMethod.Get, $"/api/download/{id}"),
    ];

    private static HttpRequestMessage Request(HttpMethod method, string path) =>
        new(method, path) { Content = method == HttpMethod.Put ? JsonContent.Create(new { newFormat = "flac" }) : null };
}
