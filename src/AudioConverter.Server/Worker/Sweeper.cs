using AudioConverter.Core.Queue;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Worker;

/// <summary>
/// Makes sure no accepted task is lost: at start-up and then periodically it reclaims tasks whose lease
/// expired (their worker died) and publishes tasks that are owed a message (a lost publish, a retry, a restart).
/// </summary>
public sealed partial class Sweeper(
    IServiceScopeFactory scopes, ITaskQueue queue, IOptions<WorkerOptions> options, LeftoverCleaner leftovers, TimeProvider clock, ILogger<Sweeper> logger)
    : BackgroundService
{
    private const int BatchSize = 500;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A queue that does not outlive the process starts empty: everything uploaded must be published again.
        var everything = !queue.IsDurable;
        return PeriodicPasses.RunAsync(
            async cancellationToken =>
            {
                await SweepAsync(everything, cancellationToken);
                await ((queue as IDeadLetterQueue)?.DrainDeadLettersAsync(BatchSize, cancellationToken) ?? Task.FromResult<IReadOnlyList<long>>([]));
                everything = false;
                await leftovers.CleanTempFolderAsync(cancellationToken);
            },
            () => options.Value.SweepInterval,
            e => LogSweepFailed(logger, e.Message),
            clock,
            stoppingToken);
    }

    /// <summary>One pass; returns how many tasks were published.</summary>
    public async Task<int> SweepAsync(bool republishAll, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var transitions = scope.ServiceProvider.GetRequiredService<TaskTransitions>();
        var publisher = new TaskPublisher(transitions, queue, scope.ServiceProvider.GetRequiredService<ILogger<TaskPublisher>>());
        var now = await transitions.NowAsync(cancellationToken);
        var settings = options.Value;
        var policy = settings.RetryPolicy;

        var published = await ReclaimExpiredAsync(db, transitions, publisher, now, policy, cancellationToken);

        // A task the upload or a PUT just wrote (never claimed, no wait set) is owed a publish by that request, which
        // sends it within its timeout: the sweeper leaves it that long, so one upload does not become two messages.
        var republishBefore = now - settings.RepublishAfter;
        var requestsPublishBefore = now - TaskPublisher.RequestsOwnPublish;
        var owed = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == ConversionStatus.Uploaded && (t.NotBefore == null || t.NotBefore <= now)
                && (republishAll
                    || (t.PublishedAt == null && (t.StartedAt != null || t.NotBefore != null || t.UpdatedAt < requestsPublishBefore))
                    || t.PublishedAt < republishBefore))
            .OrderBy(t => t.Id)
            .Select(t => new { t.Id, t.Fence, Owed = t.PublishedAt == null })
            .Take(republishAll ? int.MaxValue : BatchSize)
            .ToListAsync(cancellationToken);
        foreach (var task in owed)
        {
            var sent = task.Owed
                ? await publisher.PublishAsync(task.Id, task.Fence, cancellationToken)
                : await publisher.RepublishAsync(task.Id, task.Fence, cancellationToken);
            if (!sent)
            {
                // The queue is down: the rest stay owed for the next pass.
                break;
            }

            published++;
        }

        if (published > 0)
        {
            LogRepublished(logger, published);
        }

        return published;
    }

    /// <summary>
    /// Expired leases back to uploaded (or failed when the policy gives up); a requeued task is published here at once,
    /// as the sweeper owes it, so the owed pass's wait for a request's own publish does not delay it. Returns how many went out.
    /// </summary>
    private async Task<int> ReclaimExpiredAsync(AppDbContext db, TaskTransitions transitions, TaskPublisher publisher, DateTime now, RetryPolicy policy, CancellationToken cancellationToken)
    {
        var expired = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == ConversionStatus.Processing && t.LeaseExpiresAt < now)
            .OrderBy(t => t.Id)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        var published = 0;
        foreach (var task in expired)
        {
            var outcome = await transitions.ReclaimAsync(task.Id, task.Fence, task.Attempts, policy, cancellationToken);
            if (outcome != ReclaimOutcome.None)
            {
                LogReclaimed(logger, task.Id, outcome == ReclaimOutcome.GaveUp);
                Telemetry.AudioConverterMetrics.LeasesReclaimed.Add(1);
            }

            if (outcome == ReclaimOutcome.Requeued && await publisher.PublishAsync(task.Id, task.Fence, cancellationToken))
            {
                published++;
            }
        }

        return published;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reclaimed task {TaskId} whose lease expired (failed for good: {GaveUp})")]
    private static partial void LogReclaimed(ILogger logger, long taskId, bool gaveUp);

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {Count} tasks that were owed a message")]
    private static partial void LogRepublished(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweep failed: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string reason);
}
