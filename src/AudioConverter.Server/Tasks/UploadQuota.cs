using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// Per-user limits on uploads, so one account cannot fill the queue or the disk: tasks waiting or converting at once,
/// and bytes uploaded over the last hour (counted from the task rows, so a deleted task no longer counts).
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
        var active = await db.Tasks.CountAsync(t => t.UserId == userId && (t.Status == ConversionStatus.Uploaded || t.Status == ConversionStatus.Processing), cancellationToken);
        if (active >= limits.MaxActiveTasksPerUser)
        {
            return new Refusal(
                $"You have {active} tasks waiting or being converted; the limit is {limits.MaxActiveTasksPerUser}. Upload again once some are processed.",
                ActiveTasksRetryAfter);
        }

        return await CheckBytesAsync(db, userId, 0, limits, now, cancellationToken);
    }

    /// <summary>Null when the user may upload <paramref name="incomingBytes"/> more bytes within the hour.</summary>
    public static async Task<Refusal?> CheckBytesAsync(AppDbContext db, long userId, long incomingBytes, UploadOptions limits, DateTime now, CancellationToken cancellationToken)
    {
        var since = now.AddHours(-1);
        var recent = db.Tasks.AsNoTracking().Where(t => t.UserId == userId && t.CreatedAt > since);
        var used = await recent.SumAsync(t => t.InputBytes, cancellationToken);
        var limit = limits.MaxBytesPerUserPerHour;
        if (used + Math.Max(incomingBytes, 1) <= limit)
        {
            return null;
        }

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
