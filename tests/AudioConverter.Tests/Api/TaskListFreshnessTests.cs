using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Api;

/// <summary>
/// GET /api/tasks answers a repeat from <see cref="TaskListCache"/> on SQLite, and never a stale one: every change to
/// the tasks, whoever makes it (an upload, the worker's writes, a delete, another connection, another process), shows
/// on the very next listing. Each test lists before the change, twice, so the answer it then expects to change is a
/// kept one; without the cache's validation they would all see the old answer.
/// </summary>
public sealed class TaskListFreshnessTests(ApiOnlyApp app) : IClassFixture<ApiOnlyApp>
{
    [Fact]
    public async Task ARepeatIsAnsweredFromTheCacheExactlyAsTheFirstTime()
    {
        var client = await app.NewUserAsync();
        for (var i = 0; i < 3; i++)
        {
            await client.UploadOkAsync(AudioSamples.Get("mp3"), $"t{i}.mp3", "wav");
        }

        using var first = await client.GetAsync("/api/tasks?max=2");
        using var second = await client.GetAsync("/api/tasks?max=2");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("application/json; charset=utf-8", second.Content.Headers.ContentType?.ToString());
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(Assert.Single(first.Headers.GetValues("Link")), Assert.Single(second.Headers.GetValues("Link")));
        Assert.Equal(second.Content.Headers.ContentLength, (await second.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal("nosniff", Assert.Single(second.Headers.GetValues("X-Content-Type-Options")));

        // The second answer was the kept one.
        var cache = app.Factory.Services.GetRequiredService<TaskListCache>();
        Assert.NotEmpty(cache.Find(default).Generation!.Pages);
    }

    [Fact]
    public async Task AnUploadShowsOnTheNextListing()
    {
        var client = await app.NewUserAsync();
        Assert.Empty(await ListAsync(client));
        Assert.Empty(await ListAsync(client));

        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "new.mp3", "wav");

        Assert.Equal([task.Id], (await ListAsync(client)).Select(t => t.Id));
    }

    [Fact]
    public async Task TheWorkersClaimProgressAndFinishEachShowOnTheNextListing()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "a.mp3", "wav");
        await ListAsync(client);
        Assert.Equal("uploaded", Assert.Single(await ListAsync(client)).Status);

        // The worker's own writes, through the same transitions it makes them with.
        using var scope = app.Factory.Services.CreateScope();
        var transitions = scope.ServiceProvider.GetRequiredService<TaskTransitions>();
        var claim = await transitions.ClaimAsync(task.Id, "test-worker", new ClaimRules(LeaseSeconds: 60, MaxAttempts: 3, MaxProcessingPerUser: 0), CancellationToken.None);
        Assert.Equal(ClaimOutcome.Claimed, claim.Outcome);
        var fence = claim.Task!.Fence;
        Assert.Equal(("processing", 0), Shown(Assert.Single(await ListAsync(client))));

        Assert.True(await transitions.ProgressAsync(task.Id, fence, 40, CancellationToken.None));
        Assert.Equal(("processing", 40), Shown(Assert.Single(await ListAsync(client))));
        Assert.Equal(("processing", 40), Shown(Assert.Single(await ListAsync(client))));

        Assert.True(await transitions.FinishAsync(task.Id, fence, "outputs/a.wav", 1234, 2.0, null, CancellationToken.None));
        var processed = Assert.Single(await ListAsync(client));
        Assert.Equal(("processed", 100), Shown(processed));
        Assert.Equal(1234, processed.OutputBytes);
    }

    [Fact]
    public async Task ADeleteShowsOnTheNextListing()
    {
        var client = await app.NewUserAsync();
        var kept = await client.UploadOkAsync(AudioSamples.Get("mp3"), "kept.mp3", "wav");
        var deleted = await client.UploadOkAsync(AudioSamples.Get("mp3"), "deleted.mp3", "wav");
        await ListAsync(client);
        Assert.Equal(2, (await ListAsync(client)).Count);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/tasks/{deleted.Id}")).StatusCode);

        Assert.Equal([kept.Id], (await ListAsync(client)).Select(t => t.Id));
    }

    [Fact]
    public async Task AnUpdateMadeOnAnotherConnectionShowsOnTheNextListing()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "before.mp3", "wav");
        await ListAsync(client);
        Assert.Equal("before.mp3", Assert.Single(await ListAsync(client)).FileName);

        // Not through the app at all: a connection of its own, as a maintenance script would make.
        var file = Path.Combine(app.Factory.DataDirectory, "app.db");
        await using (var connection = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE tasks SET FileName = 'after.mp3' WHERE Id = $id";
            update.Parameters.AddWithValue("$id", task.Id);
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        Assert.Equal("after.mp3", Assert.Single(await ListAsync(client)).FileName);
    }

    [Fact]
    public async Task TwoUsersWithTheSameQueryEachSeeOnlyTheirOwnTasks()
    {
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        var hers = await alice.UploadOkAsync(AudioSamples.Get("mp3"), "alice.mp3", "wav");
        var his = await bob.UploadOkAsync(AudioSamples.Get("mp3"), "bob.mp3", "wav");

        for (var round = 0; round < 2; round++)
        {
            Assert.Equal([hers.Id], (await ListAsync(alice)).Select(t => t.Id));
            Assert.Equal([his.Id], (await ListAsync(bob)).Select(t => t.Id));
        }
    }

    [Fact]
    public async Task AKeyWithoutTasksReadIsRefusedEvenWhenItsUsersListingIsKept()
    {
        var user = await app.NewUserAsync();
        await user.UploadOkAsync(AudioSamples.Get("mp3"), "a.mp3", "wav");
        await ListAsync(user);
        await ListAsync(user);
        var created = await user.PostAsJsonAsync("/api/keys", new { name = "presets only", scopes = new[] { "presets" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString();
        using var withKey = app.Factory.CreateClient();
        withKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        using var response = await withKey.GetAsync("/api/tasks");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("tasks:read", (await response.ProblemAsync()).GetProperty("scope").GetString());
    }

    [Fact]
    public async Task PagesFollowedTwiceReachTheSameTasksAndAChangeMovesTheLinks()
    {
        var client = await app.NewUserAsync();
        var made = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            made.Add((await client.UploadOkAsync(AudioSamples.Get("mp3"), $"t{i}.mp3", "wav")).Id);
        }

        Assert.Equal(made, await WalkAsync(client));
        Assert.Equal(made, await WalkAsync(client));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/tasks/{made[1]}")).StatusCode);
        made.RemoveAt(1);
        Assert.Equal(made, await WalkAsync(client));
    }

    private static async Task<List<TaskResponse>> ListAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json))!;

    private static (string Status, int? Progress) Shown(TaskResponse task) => (task.Status, task.Progress);

    /// <summary>Every page of two, oldest first, following the Link header; the ids in order.</summary>
    private static async Task<List<long>> WalkAsync(HttpClient client)
    {
        var seen = new List<long>();
        string? next = "/api/tasks?max=2";
        while (next is not null)
        {
            using var response = await client.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            seen.AddRange((await response.Content.ReadFromJsonAsync<List<TaskResponse>>(ApiClient.Json))!.Select(t => t.Id));
            next = response.Headers.TryGetValues("Link", out var links) ? Assert.Single(links)[1..Assert.Single(links).IndexOf('>', StringComparison.Ordinal)] : null;
        }

        return seen;
    }
}

/// <summary>A second server process writing the same SQLite file: its change shows on the first one's next listing.</summary>
[Collection(ProcessCollection.Name)]
public sealed class TaskListFreshnessAcrossProcessesTests
{
    [Fact]
    public async Task ADeleteThroughAnotherProcessShowsOnTheNextListing()
    {
        using var app = new ApiOnlyApp();
        var client = await app.NewUserAsync();
        var kept = await client.UploadOkAsync(AudioSamples.Get("mp3"), "kept.mp3", "wav");
        var deleted = await client.UploadOkAsync(AudioSamples.Get("mp3"), "deleted.mp3", "wav");
        await client.GetAsync("/api/tasks");
        Assert.Equal(2, (await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json))!.Count);

        // The same data folder, so the same database file and signing key: the user's token works on both.
        await using var other = await ServerProcess.StartAsync(app.Factory.DataDirectory, new Dictionary<string, string>
        {
            ["Role"] = "api",
            ["Queue:InProcessWithoutWorker"] = "true",
        });
        using var otherClient = new HttpClient { BaseAddress = other.BaseAddress };
        otherClient.DefaultRequestHeaders.Authorization = client.DefaultRequestHeaders.Authorization;
        Assert.Equal(HttpStatusCode.NoContent, (await otherClient.DeleteAsync($"/api/tasks/{deleted.Id}")).StatusCode);

        var listed = (await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json))!;
        Assert.Equal([kept.Id], listed.Select(t => t.Id));
    }
}
