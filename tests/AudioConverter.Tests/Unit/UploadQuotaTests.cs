using AudioConverter.Core.Tasks;
using AudioConverter.Core.Users;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Tasks;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Unit;

/// <summary>The quota windows over an in-memory SQLite database: no files, no server, milliseconds per case.</summary>
[Trait("Layer", "Unit")]
public sealed class UploadQuotaTests : IDisposable
{
    private const long MiB = 1024 * 1024;
    private readonly SqliteConnection connection = new("Data Source=:memory:");
    private readonly SqliteAppDbContext db;
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly UploadOptions limits = new() { MaxActiveTasksPerUser = 2, MaxBytesPerUserPerHour = 100 * MiB, MaxStoredBytesPerUser = 0 };
    private long userId;

    public UploadQuotaTests()
    {
        connection.Open();
        db = new SqliteAppDbContext(new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite(connection).Options);
        db.Database.EnsureCreated();
        var user = new User { Username = "quota", Email = "quota@example.com", PasswordHash = "x", CreatedAt = Now };
        db.Users.Add(user);
        db.SaveChanges();
        userId = user.Id;
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public void Dispose()
    {
        db.Dispose();
        connection.Dispose();
    }

    [Fact]
    public async Task AnUploadThatFitsTheHourIsAllowed()
    {
        await AddAsync(60 * MiB, Now.AddMinutes(-10), ConversionStatus.Processed);

        Assert.Null(await UploadQuota.CheckBytesAsync(db, userId, 40 * MiB, limits, Now, default));
    }

    [Fact]
    public async Task OverTheHourTheWaitIsUntilEnoughOfTheWindowHasAgedOut()
    {
        // 40 MiB 50 minutes ago, 50 MiB 20 minutes ago: 30 MiB more fits once the first has left the hour, in 10 minutes.
        await AddAsync(40 * MiB, Now.AddMinutes(-50), ConversionStatus.Processed);
        await AddAsync(50 * MiB, Now.AddMinutes(-20), ConversionStatus.Processed);

        var refusal = await UploadQuota.CheckBytesAsync(db, userId, 30 * MiB, limits, Now, default);

        Assert.NotNull(refusal);
        Assert.Equal(TimeSpan.FromMinutes(10), refusal.RetryAfter);
        Assert.Contains("per hour", refusal.Detail, StringComparison.Ordinal);
        Assert.Contains("Try again in 10 minutes", refusal.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheWindowSlidesWithTheClock()
    {
        await AddAsync(90 * MiB, Now.AddMinutes(-30), ConversionStatus.Processed);
        Assert.NotNull(await UploadQuota.CheckBytesAsync(db, userId, 20 * MiB, limits, Now, default));

        clock.Advance(TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(1));

        Assert.Null(await UploadQuota.CheckBytesAsync(db, userId, 20 * MiB, limits, Now, default));
    }

    [Fact]
    public async Task AFileLargerThanTheWholeHourWaitsTheFullHour()
    {
        var refusal = await UploadQuota.CheckBytesAsync(db, userId, 150 * MiB, limits, Now, default);

        Assert.NotNull(refusal);
        Assert.Equal(TimeSpan.FromHours(1), refusal.RetryAfter);
    }

    [Fact]
    public async Task TooManyActiveTasksAreRefusedAndFinishedOnesDoNotCount()
    {
        await AddAsync(1, Now, ConversionStatus.Uploaded);
        await AddAsync(1, Now, ConversionStatus.Processed);
        await AddAsync(1, Now, ConversionStatus.Failed);
        Assert.Null(await UploadQuota.CheckAsync(db, userId, limits, Now, default));

        await AddAsync(1, Now, ConversionStatus.Processing);
        var refusal = await UploadQuota.CheckAsync(db, userId, limits, Now, default);

        Assert.NotNull(refusal);
        Assert.Contains("You have 2 tasks waiting or being converted; the limit is 2", refusal.Detail, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(30), refusal.RetryAfter);
    }

    [Fact]
    public async Task StoredBytesCountOriginalsAndOutputsButNotExpiredTasks()
    {
        var stored = new UploadOptions { MaxActiveTasksPerUser = 10, MaxBytesPerUserPerHour = long.MaxValue, MaxStoredBytesPerUser = 100 * MiB };
        await AddAsync(30 * MiB, Now.AddDays(-3), ConversionStatus.Processed, outputBytes: 40 * MiB);
        await AddAsync(500 * MiB, Now.AddDays(-40), ConversionStatus.Expired, outputBytes: 500 * MiB);

        Assert.Equal(70 * MiB, await UploadQuota.StoredBytesAsync(db, userId, default));
        Assert.Null(await UploadQuota.CheckBytesAsync(db, userId, 30 * MiB, stored, Now, default));

        var refusal = await UploadQuota.CheckBytesAsync(db, userId, 31 * MiB, stored, Now, default);
        Assert.NotNull(refusal);
        Assert.Contains("Uploads:MaxStoredBytesPerUser", refusal.Detail, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromHours(1), refusal.RetryAfter);
    }

    [Fact]
    public async Task AnotherUsersUploadsDoNotCount()
    {
        var other = new User { Username = "other", Email = "other@example.com", PasswordHash = "x", CreatedAt = Now };
        db.Users.Add(other);
        await db.SaveChangesAsync();
        await AddAsync(100 * MiB, Now.AddMinutes(-1), ConversionStatus.Uploaded, owner: other.Id);

        Assert.Null(await UploadQuota.CheckAsync(db, userId, limits, Now, default));
        Assert.Null(await UploadQuota.CheckBytesAsync(db, userId, 100 * MiB, limits, Now, default));
    }

    private async Task AddAsync(long inputBytes, DateTime createdAt, ConversionStatus status, long? outputBytes = null, long? owner = null)
    {
        db.Tasks.Add(new ConversionTask
        {
            UserId = owner ?? userId,
            FileName = "a.mp3",
            OriginalFormat = "mp3",
            NewFormat = "wav",
            Status = status,
            CreatedAt = createdAt,
            UpdatedAt = createdAt,
            InputBytes = inputBytes,
            OutputBytes = outputBytes,
            InputKey = "originals/" + Guid.NewGuid().ToString("N"),
        });
        await db.SaveChangesAsync();
    }
}
