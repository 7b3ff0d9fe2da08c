using System.Net;
using System.Net.Http.Json;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Telemetry;

/// <summary>
/// Admission control through the real pipeline: an API-only host (nothing converts, so uploads stay queued) whose
/// clock is a FakeTimeProvider, so the cached backlog's age and the oldest task's age move only when the test says.
/// </summary>
public sealed class AdmissionTests
{
    private static readonly byte[] Audio = AudioSamples.Get("mp3", 1);

    [Fact]
    public async Task TheGlobalQueueLimitAnswers503WithRetryAfterOnceTheCachedCountCatchesUp()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = Host(clock, ("Admission:MaxQueuedTasks", "2"), ("Admission:RefreshSeconds", "5"), ("Admission:RetryAfterSeconds", "17"));
        var ann = await NewUserAsync(app);
        var bob = await NewUserAsync(app);

        // The first upload takes the snapshot (0 queued); the count is then at most 5 s old, never a query per upload.
        await ann.UploadOkAsync(Audio, "a.mp3", "wav");
        await bob.UploadOkAsync(Audio, "b.mp3", "wav");
        await ann.UploadOkAsync(Audio, "c.mp3", "wav");

        clock.Advance(TimeSpan.FromSeconds(6));
        var refused = await bob.UploadAsync(Audio, "d.mp3", "wav");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(17), refused.Headers.RetryAfter?.Delta);
        var problem = await refused.ProblemAsync();
        Assert.Equal(Problems.UnavailableType, problem.GetProperty("type").GetString());
        Assert.Contains("3 tasks waiting", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Refused before the body was read: no task, no stored file.
        var mine = await bob.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json);
        Assert.DoesNotContain(mine!, t => t.FileName == "d.mp3");
        Assert.Equal(3, Directory.GetFiles(Path.Combine(app.DataDirectory, "blobs"), "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task TheOldestTaskAgeLimitAnswers503OnceTheOldestTaskHasWaitedTooLong()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = Host(clock, ("Admission:MaxOldestTaskAgeSeconds", "60"), ("Admission:RefreshSeconds", "1"));
        var ann = await NewUserAsync(app);
        await ann.UploadOkAsync(Audio, "a.mp3", "wav");

        clock.Advance(TimeSpan.FromSeconds(30));
        await ann.UploadOkAsync(Audio, "b.mp3", "wav");

        // The rows' times come from the database's clock (the wall clock here), so the fake clock runs well past the limit.
        clock.Advance(TimeSpan.FromSeconds(40));
        var refused = await ann.UploadAsync(Audio, "c.mp3", "wav");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        var problem = await refused.ProblemAsync();
        Assert.Equal(Problems.UnavailableType, problem.GetProperty("type").GetString());
        Assert.Matches(@"oldest waiting task has waited (6\d|7\d) seconds", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ThePerUserLimitAnswers429ToThatUserOnlyAndCountsWithoutACache()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = Host(clock, ("Admission:MaxQueuedTasksPerUser", "2"), ("Admission:RetryAfterSeconds", "45"));
        var ann = await NewUserAsync(app);
        var bob = await NewUserAsync(app);
        await ann.UploadOkAsync(Audio, "a.mp3", "wav");
        await ann.UploadOkAsync(Audio, "b.mp3", "wav");

        var refused = await ann.UploadAsync(Audio, "c.mp3", "wav");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(45), refused.Headers.RetryAfter?.Delta);
        var problem = await refused.ProblemAsync();
        Assert.Equal(Problems.TooManyRequestsType, problem.GetProperty("type").GetString());
        Assert.Contains("You have 2 tasks waiting", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Someone else's backlog is not Bob's problem.
        await bob.UploadOkAsync(Audio, "d.mp3", "wav");

        // Once one of Ann's tasks is no longer waiting, she may upload again.
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AudioConverter.Infrastructure.Data.AppDbContext>();
            var first = db.Tasks.OrderBy(t => t.Id).First();
            first.Status = AudioConverter.Core.Tasks.ConversionStatus.Processed;
            await db.SaveChangesAsync();
        }

        await ann.UploadOkAsync(Audio, "e.mp3", "wav");
    }

    [Fact]
    public async Task WithoutLimitsEveryUploadIsAdmitted()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = Host(clock);
        var ann = await NewUserAsync(app);
        for (var i = 0; i < 5; i++)
        {
            await ann.UploadOkAsync(Audio, $"{i}.mp3", "wav");
            clock.Advance(TimeSpan.FromMinutes(10));
        }
    }

    private static Hosted Host(FakeTimeProvider clock, params (string Key, string Value)[] settings)
    {
        var overrides = new Dictionary<string, string?> { ["Role"] = "api", ["Queue:InProcessWithoutWorker"] = "true", ["Uploads:MaxFileBytes"] = "1000000" };
        foreach (var (key, value) in settings)
        {
            overrides[key] = value;
        }

        var factory = new AppFactory(overrides);
        return new Hosted(factory, factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock))));
    }

    private static Task<HttpClient> NewUserAsync(Hosted app) => app.CreateClient().NewUserAsync(app.CreateClient);

    private sealed class Hosted(AppFactory root, Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory) : IDisposable
    {
        public string DataDirectory => root.DataDirectory;

        public IServiceProvider Services => factory.Services;

        public HttpClient CreateClient() => factory.CreateClient();

        public void Dispose()
        {
            factory.Dispose();
            root.Dispose();
        }
    }
}
