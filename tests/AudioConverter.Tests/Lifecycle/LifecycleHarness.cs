using AudioConverter.Core.Tasks;
using AudioConverter.Core.Users;
using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Notifications;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Infrastructure.Storage;
using AudioConverter.Server.Notifications;
using AudioConverter.Server.Worker;
using AudioConverter.Tests.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Lifecycle;

/// <summary>
/// The real infrastructure over a fresh SQLite or PostgreSQL database, a local blob folder and a work folder, with
/// time on a FakeTimeProvider: transitions read that clock instead of the database's, so leases, backoff and
/// retention move only when a test advances it.
/// </summary>
public sealed class LifecycleHarness : IAsyncDisposable
{
    private readonly ServiceProvider services;
    private readonly string? postgresDatabase;

    private LifecycleHarness(ServiceProvider services, string folder, FakeTimeProvider clock, string? postgresDatabase)
    {
        this.services = services;
        Folder = folder;
        Clock = clock;
        this.postgresDatabase = postgresDatabase;
    }

    public IServiceProvider Services => services;
    public string Folder { get; }
    public FakeTimeProvider Clock { get; }
    public string BlobFolder => Path.Combine(Folder, "blobs");

    public static async Task<LifecycleHarness> StartAsync(string provider, IDictionary<string, string?>? settings = null, bool databaseClock = false)
    {
        var folder = Path.Combine(Path.GetTempPath(), "ac-tests", "lifecycle-" + Guid.NewGuid().ToString("N"));
        string? postgres = null;
        string connectionString;
        if (provider == "Postgres")
        {
            postgres = "ac_" + Guid.NewGuid().ToString("N");
            connectionString = await ExternalServices.CreatePostgresDatabaseAsync(postgres);
        }
        else
        {
            connectionString = $"Data Source={Path.Combine(folder, "app.db")}";
        }

        var values = new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider,
            ["Database:ConnectionString"] = connectionString,
            ["Storage:LocalPath"] = Path.Combine(folder, "blobs"),
            ["Worker:TempPath"] = Path.Combine(folder, "tmp"),
            ["Worker:LeaseSeconds"] = "30",
            ["Media:IdlePriority"] = "false", // as in AppFactory: the test run is not requests to yield to
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var collection = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton<TimeProvider>(clock)
            .AddDatabase(configuration).AddBlobStore(configuration).AddTaskQueue(configuration).AddMediaConverter(configuration).AddMail(configuration);
        collection.AddScoped(p => new TaskTransitions(p.GetRequiredService<AppDbContext>(), clock, useDatabaseClock: databaseClock));
        collection.AddOptions<WorkerOptions>().Bind(configuration.GetSection(WorkerOptions.Section)).PostConfigure(o => o.InstanceId = WorkerInstance.Id(configuration));
        collection.AddSingleton<LeftoverCleaner>();
        var built = collection.BuildServiceProvider();
        await DatabaseInitializer.InitializeAsync(built, migrate: true, TimeSpan.FromSeconds(30), NullLogger.Instance, default);
        return new LifecycleHarness(built, folder, clock, postgres);
    }

    public async Task<T> WithDbAsync<T>(Func<AppDbContext, TaskTransitions, Task<T>> action)
    {
        await using var scope = services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<AppDbContext>(), scope.ServiceProvider.GetRequiredService<TaskTransitions>());
    }

    public Task<ConversionTask> RowAsync(long id) => WithDbAsync((db, _) => db.Tasks.AsNoTracking().SingleAsync(t => t.Id == id));

    public Task<List<TaskEvent>> EventsAsync(long id) => WithDbAsync((db, _) => db.TaskEvents.AsNoTracking().Where(e => e.TaskId == id).OrderBy(e => e.Id).ToListAsync());

    public async Task<long> AddUserAsync(string name)
    {
        return await WithDbAsync(async (db, _) =>
        {
            var user = new User { Username = name, Email = $"{name}@example.com", PasswordHash = "not-a-real-hash", CreatedAt = Clock.GetUtcNow().UtcDateTime };
            db.Users.Add(user);
            db.SetNormalizedNames(user);
            await db.SaveChangesAsync();
            return user.Id;
        });
    }

    /// <summary>An upload's insert through the real transition, with an original of <paramref name="content"/> in the blob store.</summary>
    public async Task<ConversionTask> UploadAsync(long userId, byte[] content, string newFormat = "ogg", bool markPublished = false)
    {
        var key = $"originals/{Guid.NewGuid():N}.mp3";
        await services.GetRequiredService<Core.Storage.IBlobStore>().PutAsync(key, new MemoryStream(content), default);
        return await WithDbAsync((_, transitions) => transitions.CreateAsync(new ConversionTask
        {
            UserId = userId,
            FileName = "song.mp3",
            OriginalFormat = "mp3",
            NewFormat = newFormat,
            InputKey = key,
            InputBytes = content.Length,
        }, markPublished, default));
    }

    public async ValueTask DisposeAsync()
    {
        await services.DisposeAsync();
        if (postgresDatabase is not null)
        {
            await ExternalServices.DropPostgresDatabaseAsync(postgresDatabase);
        }
        else
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was written.
        }
    }
}
