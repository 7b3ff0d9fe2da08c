using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Core.Users;
using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Notifications;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Infrastructure.Storage;
using AudioConverter.Server.Worker;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AudioConverter.Tests.Contracts;

/// <summary>What every database must guarantee: migrations, one winner per claim, lease reclaim, unique names.</summary>
public abstract class DatabaseContract : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> disposables = [];

    /// <summary>Creates an empty database of its own for one test and returns (Database:Provider, Database:ConnectionString).</summary>
    protected abstract Task<(string Provider, string ConnectionString)> CreateDatabaseAsync();

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(disposables))
        {
            await disposable.DisposeAsync();
        }
    }

    [Fact]
    public async Task MigrationsApplyToAnEmptyDatabaseAndLeaveNothingPending()
    {
        var services = await ServicesAsync();
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        Assert.NotEmpty(db.Database.GetMigrations());
        Assert.NotEmpty(await db.Database.GetPendingMigrationsAsync());

        await DatabaseInitializer.InitializeAsync(services, migrate: true, TimeSpan.FromSeconds(30), NullLogger.Instance, default);

        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
        Assert.Equal(0, await db.Tasks.CountAsync());
    }

    [Fact]
    public async Task WorkerStartedBeforeTheMigrationsWaitsForTheSchema()
    {
        var services = await ServicesAsync();
        var waiting = DatabaseInitializer.InitializeAsync(services, migrate: false, TimeSpan.FromSeconds(60), NullLogger.Instance, default);
        var early = await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(1500)));
        Assert.NotSame(waiting, early);

        await DatabaseInitializer.InitializeAsync(services, migrate: true, TimeSpan.FromSeconds(30), NullLogger.Instance, default);
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task UsernamesAreUniqueRegardlessOfCase()
    {
        var services = await MigratedServicesAsync();
        await AddUserAsync(services, "Alice");
        await Assert.ThrowsAsync<DbUpdateException>(() => AddUserAsync(services, "ALICE"));
    }

    [Fact]
    public async Task TwoConcurrentClaimsOfOneTaskLetExactlyOneWorkerConvertIt()
    {
        var services = await MigratedServicesAsync();
        var userId = await AddUserAsync(services, "claims");
        var blobs = services.GetRequiredService<IBlobStore>();
        var processor = ActivatorUtilities.CreateInstance<TaskProcessor>(services);
        var queue = new InProcessTaskQueue();

        var ids = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            var key = $"originals/{Guid.NewGuid():N}.mp3";
            await blobs.PutAsync(key, new MemoryStream(AudioSamples.Get("mp3", 1)), default);
            ids.Add(await AddTaskAsync(services, userId, key, ConversionStatus.Uploaded, null, null));
        }

        // Every task is announced twice, as a redelivery or a sweeper republish would; both copies are processed at once.
        foreach (var id in ids.Concat(ids))
        {
            await queue.PublishAsync(id, default);
        }

        var deliveries = new List<IQueueDelivery>();
        for (var i = 0; i < ids.Count * 2; i++)
        {
            deliveries.Add(await queue.ReceiveAsync(default));
        }

        await Task.WhenAll(deliveries.Select(d => processor.ProcessAsync(d, CancellationToken.None)));

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var tasks = await db.Tasks.AsNoTracking().Where(t => ids.Contains(t.Id)).ToListAsync();
        Assert.Equal(ids.Count, tasks.Count);
        Assert.All(tasks, t =>
        {
            Assert.Equal(ConversionStatus.Processed, t.Status);
            Assert.Equal(1, t.Attempts);
            Assert.Equal(t.OutputKeyFor(AudioFormat.Find("ogg")!), t.OutputKey);
            Assert.InRange((DateTime.UtcNow - t.ProcessedAt!.Value).TotalMinutes, 0, 5);
        });
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task ExpiredLeaseIsReclaimedAndALiveLeaseIsLeftAlone()
    {
        var services = await MigratedServicesAsync();
        var userId = await AddUserAsync(services, "leases");
        var now = DateTime.UtcNow;
        var expired = await AddTaskAsync(services, userId, "originals/expired.mp3", ConversionStatus.Processing, "dead-worker", now.AddMinutes(-1));
        var live = await AddTaskAsync(services, userId, "originals/live.mp3", ConversionStatus.Processing, "live-worker", now.AddMinutes(10));
        var queue = new InProcessTaskQueue();
        var sweeper = ActivatorUtilities.CreateInstance<Sweeper>(services, queue);

        Assert.Equal(1, await sweeper.SweepAsync(republishAll: false, default));

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var reclaimed = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == expired);
        Assert.Equal(ConversionStatus.Uploaded, reclaimed.Status);
        Assert.Null(reclaimed.LeaseOwner);
        Assert.NotNull(reclaimed.PublishedAt);
        var untouched = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == live);
        Assert.Equal(ConversionStatus.Processing, untouched.Status);
        Assert.Equal("live-worker", untouched.LeaseOwner);
        Assert.Equal(expired, (await queue.ReceiveAsync(default)).TaskId);
        Assert.Equal(0, queue.Count);
    }

    /// <summary>The real infrastructure registration for a fresh database, with a local blob folder and worker settings.</summary>
    private async Task<ServiceProvider> ServicesAsync()
    {
        var (provider, connectionString) = await CreateDatabaseAsync();
        var folder = Path.Combine(Path.GetTempPath(), "ac-tests", "db-" + Guid.NewGuid().ToString("N"));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider,
            ["Database:ConnectionString"] = connectionString,
            ["Storage:LocalPath"] = Path.Combine(folder, "blobs"),
            ["Worker:TempPath"] = Path.Combine(folder, "tmp"),
        }).Build();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton(TimeProvider.System)
            .AddDatabase(configuration).AddBlobStore(configuration).AddTaskQueue(configuration).AddMediaConverter(configuration).AddMail(configuration);
        services.AddOptions<WorkerOptions>().Bind(configuration.GetSection(WorkerOptions.Section));

        services.AddSingleton<LeftoverCleaner>();
        var built = services.BuildServiceProvider();
        disposables.Add(built);
        return built;
    }

    private async Task<ServiceProvider> MigratedServicesAsync()
    {
        var services = await ServicesAsync();
        await DatabaseInitializer.InitializeAsync(services, migrate: true, TimeSpan.FromSeconds(30), NullLogger.Instance, default);
        return services;
    }

    private static async Task<long> AddUserAsync(IServiceProvider services, string name)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var user = new User { Username = name, Email = $"{name}@example.com", PasswordHash = "not-a-real-hash", CreatedAt = DateTime.UtcNow };
        db.Users.Add(user);
        db.SetNormalizedNames(user);
        await db.SaveChangesAsync();
        return user.Id;
    }

    private static async Task<long> AddTaskAsync(IServiceProvider services, long userId, string inputKey, ConversionStatus status, string? leaseOwner, DateTime? leaseExpiresAt)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = DateTime.UtcNow;
        var task = new ConversionTask
        {
            UserId = userId,
            FileName = "song.mp3",
            OriginalFormat = "mp3",
            NewFormat = "ogg",
            Status = status,
            CreatedAt = now,
            UpdatedAt = now,
            PublishedAt = now,
            InputKey = inputKey,
            InputBytes = 1,
            Attempts = status == ConversionStatus.Processing ? 1 : 0,
            LeaseOwner = leaseOwner,
            LeaseExpiresAt = leaseExpiresAt,
        };
        db.Tasks.Add(task);
        await db.SaveChangesAsync();
        return task.Id;
    }
}
