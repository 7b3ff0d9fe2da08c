using System.Collections.Concurrent;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// Per-user limits on uploads, so one account cannot fill the queue or the disk: tasks waiting or converting at once,
/// bytes uploaded over the last hour, and bytes stored (originals and outputs); all counted from the task rows, so a
/// deleted task no longer counts, and an expired one no longer counts as stored.
/// </summary>
public static class UploadQuota
{
    /// <summary>How long to tell a client with too many active tasks to wait: a guess, since conversions finish at their own pace.</summary>
    private static readonly TimeSpan ActiveTasksRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>Why an upload is refused and when trying again makes sense.</summary>
    public sealed record Refusal(string Detail, TimeSpan RetryAfter);

    /// <summary>Before the body is read: null when the user may start another upload now.</summary>
    public static async Task<Refusal?> CheckAsync(AppDbContext db, long userId, UploadOptions limits, DateTime now, CancellationToken cancellationToken)
    {
        var usage = await UsageAsync(db, userId, limits, now, cancellationToken);
        if (usage.Active >= limits.MaxActiveTasksPerUser)
        {
            return new Refusal(
                $"You have {usage.Active} tasks waiting or being converted; the limit is {limits.MaxActiveTasksPerUser}. Upload again once some are processed.",
                ActiveTasksRetryAfter);
        }

        return await CheckBytesAsync(db, userId, 0, usage, limits, now, cancellationToken);
    }

    /// <summary>How long to tell a client over its storage quota to wait: nothing frees space but deleting or retention.</summary>
    private static readonly TimeSpan StorageRetryAfter = TimeSpan.FromHours(1);

    /// <summary>
    /// The bytes a user stores: originals and outputs of every task whose files are kept (for <c>GET /api/me</c> and
    /// the storage quota). Outputs count as soon as they exist, so an input that decodes into a huge output uses it up.
    /// </summary>
    public static Task<long> StoredBytesAsync(AppDbContext db, long userId, CancellationToken cancellationToken) =>
        db.Tasks.AsNoTracking()
            .Where(t => t.UserId == userId && t.Status != ConversionStatus.Expired)
            .SumAsync(t => t.InputBytes + (t.OutputBytes ?? 0), cancellationToken);

    /// <summary>Null when the user may upload <paramref name="incomingBytes"/> more bytes: within the hour, and within the storage quota.</summary>
    public static async Task<Refusal?> CheckBytesAsync(AppDbContext db, long userId, long incomingBytes, UploadOptions limits, DateTime now, CancellationToken cancellationToken) =>
        await CheckBytesAsync(db, userId, incomingBytes, await UsageAsync(db, userId, limits, now, cancellationToken), limits, now, cancellationToken);

    /// <summary>A user's counts, each its own index search (tasks by user and status, by user and creation time).</summary>
    private sealed record Usage(int Active, long Stored, long UploadedLastHour);

    /// <summary>
    /// All three counts in one statement: an upload checks its quota twice (before and after its body), and one round
    /// trip to the database instead of three each time is most of what the checks cost. The stored bytes are summed
    /// only when that quota is on.
    /// </summary>
    private static async Task<Usage> UsageAsync(AppDbContext db, long userId, UploadOptions limits, DateTime now, CancellationToken cancellationToken)
    {
        var query = ByModel.GetOrAdd(db.Model, _ => CompileUsage());
        return await query(db, userId, now.AddHours(-1), limits.MaxStoredBytesPerUser > 0, cancellationToken) ?? new Usage(0, 0, 0);
    }

    /// <summary>
    /// The usage query, compiled once per model (SQLite's and PostgreSQL's contexts each have their own, as has every
    /// host of a test process): the upload profile had building, parameterising and looking up the LINQ query on every
    /// check costing as much as running it (docs/capacity.md, "Upload cost").
    /// </summary>
    private static readonly ConcurrentDictionary<IModel, Func<AppDbContext, long, DateTime, bool, CancellationToken, Task<Usage?>>> ByModel = new();

    private static Func<AppDbContext, long, DateTime, bool, CancellationToken, Task<Usage?>> CompileUsage() =>
        EF.CompileAsyncQuery((AppDbContext db, long userId, DateTime since, bool countStored, CancellationToken cancellationToken) =>
            db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new Usage(
                    db.Tasks.Count(t => t.UserId == userId && (t.Status == ConversionStatus.Uploaded || t.Status == ConversionStatus.Processing)),
                    countStored ? db.Tasks.Where(t => t.UserId == userId && t.Status != ConversionStatus.Expired).Sum(t => t.InputBytes + (t.OutputBytes ?? 0)) : 0,
                    db.Tasks.Where(t => t.UserId == userId && t.CreatedAt > since).Sum(t => t.InputBytes)))
                .FirstOrDefault());

    private static async Task<Refusal?> CheckBytesAsync(AppDbContext db, long userId, long incomingBytes, Usage usage, UploadOptions limits, DateTime now, CancellationToken cancellationToken)
    {
        if (limits.MaxStoredBytesPerUser > 0)
        {
            var stored = usage.Stored;
            if (stored + Math.Max(incomingBytes, 1) > limits.MaxStoredBytesPerUser)
            {
                return new Refusal(
                    $"Your files take {stored:N0} bytes and this one is {incomingBytes:N0} bytes; the limit is {limits.MaxStoredBytesPerUser:N0} bytes stored (Uploads:MaxStoredBytesPerUser, originals and converted files together). Delete some tasks, then upload again.",
                    StorageRetryAfter);
            }
        }

        var used = usage.UploadedLastHour;
        var limit = limits.MaxBytesPerUserPerHour;
        if (used + Math.Max(incomingBytes, 1) <= limit)
        {
            return null;
        }

        var since = now.AddHours(-1);
        var recent = db.Tasks.AsNoTracking().Where(t => t.UserId == userId && t.CreatedAt > since);
        // Wait until enough of the last hour's uploads have aged out of the window for this one to fit.
        var wait = TimeSpan.FromHours(1);
        var remaining = used;
        var uploads = await recent.OrderBy(t => t.CreatedAt).Select(t => new { t.CreatedAt, t.InputBytes }).ToListAsync(cancellationToken);
        foreach (var upload in uploads)
        {
            remaining -= upload.InputBytes;
            if (remaining + incomingBytes <= limit)
            {
                wait = upload.CreatedAt.AddHours(1) - now;
                break;
            }
        }

        wait = wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait;
        return new Refusal(
            $"You have uploaded {used:N0} bytes in the last hour and this file is {incomingBytes:N0} bytes; the limit is {limit:N0} bytes per hour. Try again in {Math.Ceiling(wait.TotalMinutes):N0} minutes.",
            wait);
    }
}
