using System.Text.Json;
using AudioConverter.Core.Conversion;
using AudioConverter.Core.Media;
using AudioConverter.Core.Tasks;
using AudioConverter.Core.Users;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Tasks;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Tests.Contracts;

/// <summary>
/// The listing's page query, on each database: it reads only part of a row (the stored result cut before its peaks),
/// so every task it answers must equal the answer built from the whole row, for processed, failed and new tasks.
/// </summary>
public abstract class TaskListQueryContract : IAsyncLifetime
{
    private readonly SqliteTaskListStatements statements = new();
    private AppDbContext db = null!;

    protected abstract Task<AppDbContext> CreateMigratedAsync();

    public async Task InitializeAsync() => db = await CreateMigratedAsync();

    public virtual async Task DisposeAsync()
    {
        statements.Dispose();
        await db.DisposeAsync();
    }

    [Fact]
    public async Task EachListedTaskEqualsTheAnswerFromItsWholeRow()
    {
        var user = new User { Username = "lister", Email = "lister@example.com", PasswordHash = "x", CreatedAt = At(0) };
        var other = new User { Username = "other", Email = "other@example.com", PasswordHash = "x", CreatedAt = At(0) };
        db.Users.AddRange(user, other);
        await db.SaveChangesAsync();

        var result = new ConversionResult(
            true,
            ["Resampled to 48000 Hz.", "A note that quotes JSON: ,\"peaks\":[1] and {\"peaks\":2}"],
            new MediaFacts("mp3", "mp3", 44100, 2, 128, 2.0),
            new OutputFacts("ogg", "vorbis", 48000, 2, 112, 2.0, 31_000, new string('a', 64), new LoudnessFacts(-16.1, 4.2, -1.5)),
            [.. Enumerable.Range(0, 1000).Select(i => Math.Round(i / 1000.0, 3))]);
        var options = new ConversionOptions { Bitrate = 112, Loudness = -16, Title = "A \"quoted\", title", Analyze = true };
        db.Tasks.AddRange(
            Task(user.Id, "done.mp3", ConversionStatus.Processed, result.ToJson(), options.ToJson(), "converted/1.ogg"),
            Task(user.Id, "copied.mp3", ConversionStatus.Processed, new ConversionResult(false, [], result.Input, result.Output, []).ToJson(), null, "converted/2.ogg"),
            Task(user.Id, "broken.mp3", ConversionStatus.Failed, null, options.ToJson(), null, error: "ffmpeg could not read the file."),
            Task(user.Id, "new.mp3", ConversionStatus.Uploaded, null, null, null),
            Task(user.Id, "busy.mp3", ConversionStatus.Processing, null, "", null, progress: 40),
            Task(other.Id, "theirs.mp3", ConversionStatus.Processed, result.ToJson(), null, "converted/6.ogg"));
        await db.SaveChangesAsync();

        var whole = await db.Tasks.AsNoTracking().Where(t => t.UserId == user.Id).OrderBy(t => t.Id).ToListAsync();
        var oldestFirst = await TaskListQuery.PageAsync(db, statements, user.Id, newestFirst: false, cursor: null, limit: 100, CancellationToken.None);
        var newestFirst = await TaskListQuery.PageAsync(db, statements, user.Id, newestFirst: true, cursor: null, limit: 100, CancellationToken.None);

        Assert.Equal(whole.Select(t => Json(TaskResponse.From(t))), oldestFirst.Select(Json));
        Assert.Equal(whole.Select(t => Json(TaskResponse.From(t))).Reverse(), newestFirst.Select(Json));
        var done = oldestFirst[0];
        Assert.Equal(result.Notes, done.Notes);
        Assert.Equal(result.Output, done.Output);
        Assert.Equal(options, done.Options);
        Assert.Equal(40, oldestFirst[4].Progress);

        // The stored row still holds the peaks the waveform route draws.
        Assert.Equal(1000, ConversionResult.FromJson(whole[0].Result)!.Peaks.Count);
    }

    [Fact]
    public async Task ALimitAndACursorTakeTheRowsAfterIt()
    {
        var user = new User { Username = "pager", Email = "pager@example.com", PasswordHash = "x", CreatedAt = At(0) };
        db.Users.Add(user);
        await db.SaveChangesAsync();
        for (var i = 0; i < 5; i++)
        {
            db.Tasks.Add(Task(user.Id, $"t{i}.mp3", ConversionStatus.Uploaded, null, null, null));
        }

        await db.SaveChangesAsync();
        var ids = await db.Tasks.Where(t => t.UserId == user.Id).OrderBy(t => t.Id).Select(t => t.Id).ToListAsync();

        Assert.Equal(ids[2..4], (await TaskListQuery.PageAsync(db, statements, user.Id, false, ids[1], 2, CancellationToken.None)).Select(t => t.Id));
        Assert.Equal([ids[2], ids[1]], (await TaskListQuery.PageAsync(db, statements, user.Id, true, ids[3], 2, CancellationToken.None)).Select(t => t.Id));
    }

    /// <summary>
    /// The page query reads only some columns (a hand-written statement on SQLite, a projection on PostgreSQL). A row
    /// with every column set, none to its default, must still list as the answer built from the whole row: were
    /// <see cref="TaskResponse.From"/> to read a column the query leaves out, the two would differ here. One such row
    /// in each status, since the answer shows some columns in one status only (progress while processing, the output
    /// once processed): a processed row alone listed whole with its Progress column left unread.
    /// </summary>
    [Fact]
    public async Task ARowWithEveryColumnSetListsAsItsWholeRow()
    {
        var user = new User { Username = "every", Email = "every@example.com", PasswordHash = "x", CreatedAt = At(0) };
        db.Users.Add(user);
        await db.SaveChangesAsync();
        var number = 1;
        foreach (var status in Enum.GetValues<ConversionStatus>())
        {
            var task = Task(user.Id, "every.mp3", status, null, null, "converted/x.ogg");
            foreach (var property in typeof(ConversionTask).GetProperties().Where(p => p.CanWrite))
            {
                // Values differ between the rows too, so no unique index refuses one.
                var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                object? value = type == typeof(string) ? $"s{number}"
                    : type == typeof(long) ? 1000L + number
                    : type == typeof(int) ? 10 + number
                    : type == typeof(double) ? 1.5 + number
                    : type == typeof(DateTime) ? At(100 + number)
                    : property.GetValue(task);
                property.SetValue(task, value);
                number++;
            }

            task.Id = 0;
            task.UserId = user.Id;
            task.Status = status;
            task.Options = new ConversionOptions { Bitrate = 96, Title = "every" }.ToJson();
            task.Result = new ConversionResult(true, ["a note"], new MediaFacts("mp3", "mp3", 44100, 2, 128, 2.0),
                new OutputFacts("ogg", "vorbis", 48000, 2, 96, 2.0, 9_000, new string('b', 64), null), [0.5, 1]).ToJson();
            db.Tasks.Add(task);
        }

        await db.SaveChangesAsync();

        var whole = await db.Tasks.AsNoTracking().Where(t => t.UserId == user.Id).OrderBy(t => t.Id).ToListAsync();
        Assert.Equal(Enum.GetValues<ConversionStatus>(), whole.Select(t => t.Status));
        var expected = whole.Select(t => Json(TaskResponse.From(t))).ToList();
        var oldestFirst = await TaskListQuery.PageAsync(db, statements, user.Id, newestFirst: false, cursor: null, limit: 10, CancellationToken.None);
        var newestFirst = await TaskListQuery.PageAsync(db, statements, user.Id, newestFirst: true, cursor: null, limit: 10, CancellationToken.None);
        Assert.Equal(expected, oldestFirst.Select(Json));
        Assert.Equal(Enumerable.Reverse(expected), newestFirst.Select(Json));
    }

    private static string Json(TaskResponse task) => JsonSerializer.Serialize(task, JsonSerializerOptions.Web);

    private static DateTime At(int seconds) => new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc).AddSeconds(seconds);

    private static ConversionTask Task(long userId, string name, ConversionStatus status, string? result, string? options, string? outputKey, string? error = null, int? progress = null) => new()
    {
        UserId = userId,
        FileName = name,
        OriginalFormat = "mp3",
        NewFormat = "ogg",
        Status = status,
        Error = error,
        CreatedAt = At(1),
        UpdatedAt = At(2),
        StartedAt = status is ConversionStatus.Uploaded ? null : At(3),
        ProcessedAt = status is ConversionStatus.Processed ? At(4) : null,
        InputBytes = 33_000,
        OutputBytes = outputKey is null ? null : 31_000,
        DurationSeconds = 2.0,
        Options = options,
        Result = result,
        InputKey = $"originals/{Guid.NewGuid():N}.mp3",
        OutputKey = outputKey is null ? null : $"converted/{Guid.NewGuid():N}.ogg",
        Progress = progress,
    };
}

public sealed class SqliteTaskListQueryTests : TaskListQueryContract
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "ac-tests", "list-" + Guid.NewGuid().ToString("N"));

    protected override async Task<AppDbContext> CreateMigratedAsync()
    {
        Directory.CreateDirectory(folder);
        var db = new SqliteAppDbContext(new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite($"Data Source={Path.Combine(folder, "app.db")}").Options);
        await db.Database.MigrateAsync();
        return db;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}

public sealed class PostgresTaskListQueryTests : TaskListQueryContract
{
    private readonly string database = "ac_" + Guid.NewGuid().ToString("N");

    protected override async Task<AppDbContext> CreateMigratedAsync()
    {
        var connectionString = await ExternalServices.CreatePostgresDatabaseAsync(database);
        var db = new PostgresAppDbContext(new DbContextOptionsBuilder<PostgresAppDbContext>().UseNpgsql(connectionString).Options);
        await db.Database.MigrateAsync();
        return db;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await ExternalServices.DropPostgresDatabaseAsync(database);
    }
}
