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
public sealed partial class Sweeper(IServiceScopeFactory scopes, ITaskQueue queue, IOptions<WorkerOptions> options, LeftoverCleaner leftovers, TimeProvider clock, ILogger<Sweeper> logger)
    : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // An in-process queue starts empty: everything uploaded must be published again.
        var everything = queue is Infrastructure.Queue.InProcessTaskQueue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(everything, stoppingToken);
                await ((queue as IDeadLetterQueue)?.DrainDeadLettersAsync(BatchSize, stoppingToken) ?? Task.FromResult<IReadOnlyList<long>>([]));
                everything = false;
                await leftovers.CleanTempFolderAsync(stoppingToken);
                await leftovers.CleanBlobsAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSweepFailed(logger, e.Message);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(options.Value.SweepIntervalSeconds), clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass; returns how many tasks were published.</summary>
    public async Task<int> SweepAsync(bool republishAll, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var settings = options.Value;

        var expired = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == ConversionStatus.Processing && t.LeaseExpiresAt < now)
            .OrderBy(t => t.Id)
            .Select(t => new { t.Id, t.LeaseOwner, t.Attempts })
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        foreach (var task in expired)
        {
            var giveUp = task.Attempts >= settings.MaxAttempts;
            var reclaimed = await db.Tasks
                .Where(t => t.Id == task.Id && t.Status == ConversionStatus.Processing && t.LeaseOwner == task.LeaseOwner && t.LeaseExpiresAt < now)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(t => t.Status, giveUp ? ConversionStatus.Failed : ConversionStatus.Uploaded)
                    .SetProperty(t => t.Error, giveUp ? $"The conversion was interrupted {task.Attempts} times (the worker stopped); convert it again." : null)
                    .SetProperty(t => t.PublishedAt, (DateTime?)null)
                    .SetProperty(t => t.LeaseOwner, (string?)null)
                    .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
                    .SetProperty(t => t.UpdatedAt, now), cancellationToken);
            if (reclaimed == 1)
            {
                LogReclaimed(logger, task.Id, giveUp);
            }
        }

        var republishBefore = now.AddSeconds(-settings.RepublishAfterSeconds);
        var owed = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == ConversionStatus.Uploaded && (t.NotBefore == null || t.NotBefore <= now)
                && (republishAll || t.PublishedAt == null || t.PublishedAt < republishBefore))
            .OrderBy(t => t.Id)
            .Select(t => t.Id)
            .Take(republishAll ? int.MaxValue : BatchSize)
            .ToListAsync(cancellationToken);
        foreach (var id in owed)
        {
            // Marked before publishing: a worker may take the message and reset the mark (a retry) before a later write would land.
            await db.Tasks.Where(t => t.Id == id && t.Status == ConversionStatus.Uploaded)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.PublishedAt, now), cancellationToken);
            try
            {
                await queue.PublishAsync(id, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await db.Tasks.Where(t => t.Id == id && t.Status == ConversionStatus.Uploaded && t.PublishedAt == now)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.PublishedAt, (DateTime?)null), CancellationToken.None);
                throw;
            }
        }

        if (owed.Count > 0)
        {
            LogRepublished(logger, owed.Count);
        }

        return owed.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reclaimed task {TaskId} whose lease expired (failed for good: {GaveUp})")]
    private static partial void LogReclaimed(ILogger logger, long taskId, bool gaveUp);

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {Count} tasks that were owed a message")]
    private static partial void LogRepublished(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweep failed: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string reason);
}
