using System.Globalization;
using AudioConverter.Core.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Microsoft.EntityFrameworkCore.Storage;

namespace AudioConverter.Infrastructure.Data;

/// <summary>
/// Every change in a task's life, in the order the life runs: create, claim, progress, renew, finish, fail, retry,
/// hand back, defer, reclaim, reconvert, delete, publish-owed, published, expire. Each is one conditional update
/// (or insert, or delete) that reports whether it won; a change the owner can see writes its <see cref="TaskEvent"/>
/// in the same transaction. Times come from the database's clock (PostgreSQL <c>now()</c>, SQLite
/// <c>strftime('now')</c>), read inside the transaction, so processes with skewed clocks agree on every lease;
/// tests pass <c>useDatabaseClock: false</c> to drive time with a FakeTimeProvider.
/// </summary>
public sealed class TaskTransitions(AppDbContext db, TimeProvider clock, bool useDatabaseClock = true)
{
    /// <summary>The clock every lease, retry and publish mark is compared against.</summary>
    public async Task<DateTime> NowAsync(CancellationToken cancellationToken)
    {
        if (!useDatabaseClock)
        {
            return clock.GetUtcNow().UtcDateTime;
        }

        // A plain command on the context's connection and transaction: EF's raw-SQL query composed, parameterised and
        // looked up a LINQ query around this one value on every call (2.2 % of an upload's CPU, docs/capacity.md).
        var postgres = db.Database.IsNpgsql();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            command.CommandText = postgres ? "SELECT now()" : "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')";
            var value = await command.ExecuteScalarAsync(cancellationToken);
            var now = value as DateTime? ?? DateTime.Parse((string)value!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            return now.Kind == DateTimeKind.Utc ? now : DateTime.SpecifyKind(now, DateTimeKind.Utc);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// The upload's insert: the row, owed its first publish (or already marked published, when
    /// <paramref name="markPublished"/>: see <see cref="TaskPublisher.MarksOnInsert"/>), and its <c>task.created</c> event.
    /// </summary>
    public async Task<ConversionTask> CreateAsync(ConversionTask task, bool markPublished, CancellationToken cancellationToken)
    {
        return await InTransactionAsync(async now =>
        {
            task.Status = ConversionStatus.Uploaded;
            task.CreatedAt = now;
            task.UpdatedAt = now;
            task.PublishedAt = markPublished ? now : null;
            db.Tasks.Add(task);
            await db.SaveChangesAsync(cancellationToken);
            db.Entry(task).State = EntityState.Detached;
            await AddEventAsync(task, TaskEventTypes.Created, now, cancellationToken);
            return task;
        }, cancellationToken);
    }

    /// <summary>
    /// uploaded (and due) → processing, or an expired lease still under the attempt limit → processing: sets a lease
    /// from the database's clock and a new fence. Refused (<see cref="ClaimOutcome.Deferred"/>) while the owner
    /// already has <see cref="ClaimRules.MaxProcessingPerUser"/> tasks in processing and another user's task waits.
    /// </summary>
    public async Task<ClaimResult> ClaimAsync(long id, string leaseOwner, ClaimRules rules, CancellationToken cancellationToken)
    {
        return await InTransactionAsync(async now =>
        {
            var leaseUntil = now.AddSeconds(rules.LeaseSeconds);
            var perUser = rules.MaxProcessingPerUser;
            var maxAttempts = rules.MaxAttempts;
            var claimed = await db.Tasks
                .Where(t => t.Id == id
                    && ((t.Status == ConversionStatus.Uploaded && (t.NotBefore == null || t.NotBefore <= now))
                        || (t.Status == ConversionStatus.Processing && t.LeaseExpiresAt < now && t.Attempts < maxAttempts))
                    && (perUser <= 0
                        || db.Tasks.Count(o => o.UserId == t.UserId && o.Id != t.Id && o.Status == ConversionStatus.Processing) < perUser
                        || !db.Tasks.Any(o => o.UserId != t.UserId && o.Status == ConversionStatus.Uploaded && (o.NotBefore == null || o.NotBefore <= now))))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(t => t.Status, ConversionStatus.Processing)
                    .SetProperty(t => t.LeaseOwner, leaseOwner)
                    .SetProperty(t => t.LeaseExpiresAt, leaseUntil)
                    .SetProperty(t => t.Fence, t => t.Fence + 1)
                    .SetProperty(t => t.StartedAt, now)
                    .SetProperty(t => t.Attempts, t => t.Attempts + 1)
                    .SetProperty(t => t.NotBefore, (DateTime?)null)
                    .SetProperty(t => t.Progress, 0)
                    .SetProperty(t => t.UpdatedAt, now), cancellationToken);
            var row = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
            if (claimed == 1 && row is not null)
            {
                await AddEventAsync(row, TaskEventTypes.Progress, now, cancellationToken);
                return new ClaimResult(ClaimOutcome.Claimed, row);
            }

            var due = row is { Status: ConversionStatus.Uploaded } && (row.NotBefore is null || row.NotBefore <= now);
            return new ClaimResult(due ? ClaimOutcome.Deferred : ClaimOutcome.NotClaimable, null);
        }, cancellationToken);
    }

    /// <summary>A task refused by the fairness rule waits <paramref name="delay"/>, owed a publish, so the sweeper offers it again.</summary>
    public async Task<bool> DeferAsync(long id, TimeSpan delay, CancellationToken cancellationToken)
    {
        var now = await NowAsync(cancellationToken);
        var until = now + delay;
        return await db.Tasks.Where(t => t.Id == id && t.Status == ConversionStatus.Uploaded)
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.NotBefore, until)
                .SetProperty(t => t.PublishedAt, (DateTime?)null), cancellationToken) == 1;
    }

    /// <summary>Extends the lease while the fence is still this claim's; false means the lease was lost (stop now).</summary>
    public async Task<bool> RenewAsync(long id, long fence, int leaseSeconds, CancellationToken cancellationToken)
    {
        var now = await NowAsync(cancellationToken);
        var until = now.AddSeconds(leaseSeconds);
        return await Held(id, fence).ExecuteUpdateAsync(s => s.SetProperty(t => t.LeaseExpiresAt, until), cancellationToken) == 1;
    }

    /// <summary>
    /// Whether the claim under <paramref name="fence"/> already recorded its outcome (processed or failed, the fence
    /// still its own): a renewal that races the claim's own finish finds no row to renew, and that is not a lost lease.
    /// </summary>
    public Task<bool> OutcomeRecordedAsync(long id, long fence, CancellationToken cancellationToken) =>
        db.Tasks.AnyAsync(t => t.Id == id && t.Fence == fence && (t.Status == ConversionStatus.Processed || t.Status == ConversionStatus.Failed), cancellationToken);

    /// <summary>Records how far the conversion is (0-100) and writes a <c>task.progress</c> event.</summary>
    public async Task<bool> ProgressAsync(long id, long fence, int percent, CancellationToken cancellationToken)
    {
        var value = Math.Clamp(percent, 0, 100);
        return await UpdateWithEventAsync(id, TaskEventTypes.Progress, now => Held(id, fence)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Progress, value).SetProperty(t => t.UpdatedAt, now), cancellationToken), cancellationToken);
    }

    /// <summary>processing → processed, only while the fence is still this claim's; records the output's key.</summary>
    public async Task<bool> FinishAsync(long id, long fence, string outputKey, long outputBytes, double? durationSeconds, string? result, CancellationToken cancellationToken)
    {
        return await UpdateWithEventAsync(id, TaskEventTypes.Processed, now => Held(id, fence)
            .ExecuteUpdateAsync(s =>
            {
                s.SetProperty(t => t.Status, ConversionStatus.Processed)
                    .SetProperty(t => t.OutputKey, outputKey)
                    .SetProperty(t => t.OutputBytes, outputBytes)
                    .SetProperty(t => t.DurationSeconds, durationSeconds)
                    .SetProperty(t => t.Result, result)
                    .SetProperty(t => t.Progress, 100)
                    .SetProperty(t => t.ProcessedAt, now)
                    .SetProperty(t => t.Error, (string?)null)
                    .SetProperty(t => t.UpdatedAt, now);
                ClearLease(s);
            }, cancellationToken), cancellationToken);
    }

    /// <summary>processing → failed with a message for the owner, only while the fence is still this claim's.</summary>
    public async Task<bool> FailAsync(long id, long fence, string message, CancellationToken cancellationToken)
    {
        return await UpdateWithEventAsync(id, TaskEventTypes.Failed, now => Held(id, fence)
            .ExecuteUpdateAsync(s => SetFailed(s, message, now), cancellationToken), cancellationToken);
    }

    /// <summary>
    /// processing → uploaded after the system's failure, not before <paramref name="retryAt"/>, owed a publish: the
    /// attempt is given back and the failure counts as a retry (<see cref="ConversionTask.Retries"/>).
    /// </summary>
    public Task<bool> RetryAsync(long id, long fence, DateTime retryAt, CancellationToken cancellationToken) =>
        ReturnToQueueAsync(id, fence, retryAt, retried: true, cancellationToken);

    /// <summary>processing → uploaded on shutdown, the attempt not counted, so another worker takes it at once.</summary>
    public Task<bool> HandBackAsync(long id, long fence, CancellationToken cancellationToken) =>
        ReturnToQueueAsync(id, fence, notBefore: null, retried: false, cancellationToken);

    /// <summary>
    /// A lease that expired (its worker died): back to uploaded and owed a publish, or failed for good when the
    /// retry policy gives up (with processedAt and a <c>task.failed</c> event, like any other failure).
    /// </summary>
    public async Task<ReclaimOutcome> ReclaimAsync(long id, long fence, int attempts, RetryPolicy policy, CancellationToken cancellationToken)
    {
        if (policy.MayClaim(attempts))
        {
            var now = await NowAsync(cancellationToken);
            var reclaimed = await db.Tasks
                .Where(t => t.Id == id && t.Fence == fence && t.Status == ConversionStatus.Processing && t.LeaseExpiresAt < now)
                .ExecuteUpdateAsync(s =>
                {
                    s.SetProperty(t => t.Status, ConversionStatus.Uploaded)
                        .SetProperty(t => t.PublishedAt, (DateTime?)null)
                        .SetProperty(t => t.Progress, (int?)null)
                        .SetProperty(t => t.UpdatedAt, now);
                    ClearLease(s);
                }, cancellationToken);
            return reclaimed == 1 ? ReclaimOutcome.Requeued : ReclaimOutcome.None;
        }

        var message = $"The conversion was interrupted {attempts} times (the worker stopped); convert it again.";
        var failed = await UpdateWithEventAsync(id, TaskEventTypes.Failed, now => db.Tasks
            .Where(t => t.Id == id && t.Fence == fence && t.Status == ConversionStatus.Processing && t.LeaseExpiresAt < now)
            .ExecuteUpdateAsync(s => SetFailed(s, message, now), cancellationToken), cancellationToken);
        return failed ? ReclaimOutcome.GaveUp : ReclaimOutcome.None;
    }

    /// <summary>
    /// A new version of a task that is not processing, to <paramref name="format"/>: uploaded, owed a publish. It wins
    /// only if the row is still exactly as <paramref name="seen"/> (status, version, output key), so the seen output key
    /// is the one the winning update replaced: the caller deletes that one, never a stale read.
    /// </summary>
    public async Task<bool> ReconvertAsync(ConversionTask seen, string format, string? options, CancellationToken cancellationToken)
    {
        var now = await NowAsync(cancellationToken);
        var (status, version, outputKey) = (seen.Status, seen.Version, seen.OutputKey);
        return await db.Tasks
            .Where(t => t.Id == seen.Id && t.UserId == seen.UserId && t.Status != ConversionStatus.Processing && t.Status != ConversionStatus.Expired
                && t.Status == status && t.Version == version && t.OutputKey == outputKey)
            .ExecuteUpdateAsync(s =>
            {
                s.SetProperty(t => t.NewFormat, format)
                    .SetProperty(t => t.Options, options)
                    .SetProperty(t => t.Result, (string?)null)
                    .SetProperty(t => t.Status, ConversionStatus.Uploaded)
                    .SetProperty(t => t.Version, t => t.Version + 1)
                    .SetProperty(t => t.Error, (string?)null)
                    .SetProperty(t => t.OutputKey, (string?)null)
                    .SetProperty(t => t.OutputBytes, (long?)null)
                    .SetProperty(t => t.StartedAt, (DateTime?)null)
                    .SetProperty(t => t.ProcessedAt, (DateTime?)null)
                    .SetProperty(t => t.Progress, (int?)null)
                    .SetProperty(t => t.Attempts, 0)
                    .SetProperty(t => t.Retries, 0)
                    .SetProperty(t => t.NotBefore, (DateTime?)null)
                    .SetProperty(t => t.PublishedAt, (DateTime?)null)
                    .SetProperty(t => t.UpdatedAt, now);
                ClearLease(s);
            }, cancellationToken) == 1;
    }

    /// <summary>
    /// Removes a task that is not processing, only if it is still exactly as <paramref name="seen"/>, with its
    /// <c>task.deleted</c> event; the caller then deletes the seen row's files, which are exactly the deleted row's.
    /// </summary>
    public async Task<bool> DeleteAsync(ConversionTask seen, CancellationToken cancellationToken)
    {
        return await InTransactionAsync(async now =>
        {
            var (status, version, outputKey) = (seen.Status, seen.Version, seen.OutputKey);
            var deleted = await db.Tasks
                .Where(t => t.Id == seen.Id && t.UserId == seen.UserId && t.Status != ConversionStatus.Processing
                    && t.Status == status && t.Version == version && t.OutputKey == outputKey)
                .ExecuteDeleteAsync(cancellationToken);
            if (deleted == 1)
            {
                await AddEventAsync(seen, TaskEventTypes.Deleted, now, cancellationToken);
            }

            return deleted == 1;
        }, cancellationToken);
    }

    /// <summary>An uploaded task whose message went out long ago without a claim is owed a publish again.</summary>
    public async Task<bool> PublishOwedAsync(long id, long fence, CancellationToken cancellationToken) =>
        await db.Tasks.Where(t => t.Id == id && t.Fence == fence && t.Status == ConversionStatus.Uploaded)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.PublishedAt, (DateTime?)null), cancellationToken) == 1;

    /// <summary>
    /// The message went out: marks the publish done, only if nothing claimed the task since it was owed (the fence is
    /// unchanged). A worker that claimed and returned the task meanwhile left it owed, and it stays owed.
    /// </summary>
    public async Task<bool> PublishedAsync(long id, long fence, CancellationToken cancellationToken)
    {
        var now = await NowAsync(cancellationToken);
        return await db.Tasks.Where(t => t.Id == id && t.Fence == fence && t.Status == ConversionStatus.Uploaded && t.PublishedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.PublishedAt, now), cancellationToken) == 1;
    }

    /// <summary>
    /// Retention: a processed or failed task whose original or output reached its age becomes expired (the row stays);
    /// wins only if the row is still as <paramref name="seen"/>, and the caller then removes the seen row's files.
    /// </summary>
    public async Task<bool> ExpireAsync(ConversionTask seen, CancellationToken cancellationToken)
    {
        var now = await NowAsync(cancellationToken);
        var (status, version, outputKey) = (seen.Status, seen.Version, seen.OutputKey);
        return await db.Tasks
            .Where(t => t.Id == seen.Id && (t.Status == ConversionStatus.Processed || t.Status == ConversionStatus.Failed)
                && t.Status == status && t.Version == version && t.OutputKey == outputKey)
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.Status, ConversionStatus.Expired)
                .SetProperty(t => t.Progress, (int?)null)
                .SetProperty(t => t.UpdatedAt, now), cancellationToken) == 1;
    }

    private IQueryable<ConversionTask> Held(long id, long fence) =>
        db.Tasks.Where(t => t.Id == id && t.Fence == fence && t.Status == ConversionStatus.Processing);

    private async Task<bool> ReturnToQueueAsync(long id, long fence, DateTime? notBefore, bool retried, CancellationToken cancellationToken)
    {
        var now = await NowAsync(cancellationToken);
        var retry = retried ? 1 : 0;
        return await Held(id, fence).ExecuteUpdateAsync(s =>
        {
            s.SetProperty(t => t.Status, ConversionStatus.Uploaded)
                .SetProperty(t => t.NotBefore, notBefore)
                .SetProperty(t => t.Attempts, t => t.Attempts - 1)
                .SetProperty(t => t.Retries, t => t.Retries + retry)
                .SetProperty(t => t.PublishedAt, (DateTime?)null)
                .SetProperty(t => t.Progress, (int?)null)
                .SetProperty(t => t.UpdatedAt, now);
            ClearLease(s);
        }, cancellationToken) == 1;
    }

    /// <summary>The one place a lease is cleared.</summary>
    private static void ClearLease(UpdateSettersBuilder<ConversionTask> s) => s
        .SetProperty(t => t.LeaseOwner, (string?)null)
        .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null);

    private static void SetFailed(UpdateSettersBuilder<ConversionTask> s, string message, DateTime now)
    {
        s.SetProperty(t => t.Status, ConversionStatus.Failed)
            .SetProperty(t => t.Error, message)
            .SetProperty(t => t.ProcessedAt, now)
            .SetProperty(t => t.Progress, (int?)null)
            .SetProperty(t => t.UpdatedAt, now);
        ClearLease(s);
    }

    /// <summary>Runs the conditional update and, only when it won, writes the event of the updated row, in one transaction.</summary>
    private async Task<bool> UpdateWithEventAsync(long id, string eventType, Func<DateTime, Task<int>> update, CancellationToken cancellationToken)
    {
        return await InTransactionAsync(async now =>
        {
            if (await update(now) != 1)
            {
                return false;
            }

            var row = await db.Tasks.AsNoTracking().FirstAsync(t => t.Id == id, cancellationToken);
            await AddEventAsync(row, eventType, now, cancellationToken);
            return true;
        }, cancellationToken);
    }

    private async Task AddEventAsync(ConversionTask task, string type, DateTime now, CancellationToken cancellationToken)
    {
        var taskEvent = new TaskEvent
        {
            TaskId = task.Id,
            UserId = task.UserId,
            Type = type,
            Version = task.Version,
            Data = TaskJson.Serialize(task),
            CreatedAt = now,
        };
        db.TaskEvents.Add(taskEvent);
        await db.SaveChangesAsync(cancellationToken);
        db.Entry(taskEvent).State = EntityState.Detached;
    }

    private async Task<T> InTransactionAsync<T>(Func<DateTime, Task<T>> body, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is not null)
        {
            return await body(await NowAsync(cancellationToken));
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var result = await body(await NowAsync(cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return result;
    }
}

/// <summary>What a claim needs to know: how long a lease lasts, the attempt limit, and the per-user share of the workers (0 = no limit).</summary>
public sealed record ClaimRules(int LeaseSeconds, int MaxAttempts, int MaxProcessingPerUser);

public enum ClaimOutcome
{
    /// <summary>This worker holds the task: its lease and fence are in <see cref="ClaimResult.Task"/>.</summary>
    Claimed,

    /// <summary>Nothing to do: claimed by another worker, finished, deleted, waiting for a retry, or at its attempt limit.</summary>
    NotClaimable,

    /// <summary>The owner already has its share of the workers while others wait: offer the task again a little later.</summary>
    Deferred,
}

public sealed record ClaimResult(ClaimOutcome Outcome, ConversionTask? Task);

public enum ReclaimOutcome
{
    None,
    Requeued,
    GaveUp,
}
