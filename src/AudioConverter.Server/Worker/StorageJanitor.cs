using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Worker;

/// <summary>
/// The slow housekeeping of the blob store, on its own loop so it never delays the sweeper: retention (a processed
/// or failed task whose original or output reached its age becomes <c>expired</c> and its files are removed) and
/// the orphan scan (a blob, on local disk as on S3, that no kept task refers to and is older than
/// Worker:OrphanBlobSeconds is removed). Both work in batches.
/// </summary>
public sealed partial class StorageJanitor(IServiceScopeFactory scopes, IBlobStore blobs, IOptions<WorkerOptions> options, TimeProvider clock, ILogger<StorageJanitor> logger)
    : BackgroundService
{
    public const int BatchSize = 500;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => PeriodicPasses.RunAsync(
        async cancellationToken =>
        {
            await ExpireAsync(cancellationToken);
            await RemoveOrphansAsync(cancellationToken);
        },
        () => options.Value.JanitorInterval,
        e => LogPassFailed(logger, e.Message),
        clock,
        stoppingToken);

    /// <summary>One retention pass; returns how many tasks expired.</summary>
    public async Task<int> ExpireAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.OriginalRetention <= TimeSpan.Zero && settings.OutputRetention <= TimeSpan.Zero)
        {
            return 0;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var transitions = scope.ServiceProvider.GetRequiredService<TaskTransitions>();
        var now = await transitions.NowAsync(cancellationToken);
        var keepOriginals = settings.OriginalRetention <= TimeSpan.Zero;
        var keepOutputs = settings.OutputRetention <= TimeSpan.Zero;
        var originalsBefore = keepOriginals ? DateTime.MinValue : now - settings.OriginalRetention;
        var outputsBefore = keepOutputs ? DateTime.MinValue : now - settings.OutputRetention;
        var expired = 0;
        while (true)
        {
            var due = await db.Tasks.AsNoTracking()
                .Where(t => (t.Status == ConversionStatus.Processed || t.Status == ConversionStatus.Failed)
                    && ((!keepOriginals && t.CreatedAt < originalsBefore) || (!keepOutputs && t.ProcessedAt < outputsBefore)))
                .OrderBy(t => t.Id)
                .Take(BatchSize)
                .ToListAsync(cancellationToken);
            foreach (var task in due)
            {
                if (!await transitions.ExpireAsync(task, cancellationToken))
                {
                    continue;
                }

                expired++;
                await blobs.DeleteAsync(task.InputKey, cancellationToken);
                if (task.OutputKey is not null)
                {
                    await blobs.DeleteAsync(task.OutputKey, cancellationToken);
                }
            }

            if (due.Count < BatchSize)
            {
                break;
            }
        }

        if (expired > 0)
        {
            LogExpired(logger, expired);
        }

        return expired;
    }

    /// <summary>One orphan scan of both prefixes; returns how many blobs were removed.</summary>
    public async Task<int> RemoveOrphansAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime - options.Value.OrphanBlobAge;
        var removed = 0;
        foreach (var prefix in BlobKeys.Prefixes)
        {
            var batch = new List<string>(BatchSize);
            await foreach (var blob in blobs.ListAsync(prefix, cancellationToken))
            {
                if (blob.LastModifiedUtc < cutoff)
                {
                    batch.Add(blob.Key);
                }

                if (batch.Count == BatchSize)
                {
                    removed += await RemoveUnreferencedAsync(batch, cancellationToken);
                    batch.Clear();
                }
            }

            removed += await RemoveUnreferencedAsync(batch, cancellationToken);
        }

        if (removed > 0)
        {
            LogRemoved(logger, removed);
        }

        LogOrphanScanDone(logger, removed, cutoff);
        return removed;
    }

    /// <summary>Deletes the keys of the batch that no kept task refers to (an expired task's files are not kept).</summary>
    private async Task<int> RemoveUnreferencedAsync(List<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return 0;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        List<string?> candidates = [.. keys];
        var rows = await db.Tasks.AsNoTracking()
            .Where(t => t.Status != ConversionStatus.Expired && (candidates.Contains(t.InputKey) || candidates.Contains(t.OutputKey)))
            .Select(t => new { t.InputKey, t.OutputKey })
            .ToListAsync(cancellationToken);
        HashSet<string?> referenced = [.. rows.Select(r => r.InputKey), .. rows.Select(r => r.OutputKey)];
        var removed = 0;
        foreach (var key in keys.Where(k => !referenced.Contains(k)))
        {
            await blobs.DeleteAsync(key, cancellationToken);
            removed++;
        }

        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Expired {Count} tasks whose retention period ended; their files were removed")]
    private static partial void LogExpired(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} blobs that no task refers to (left by an interrupted upload or conversion, or an expired task)")]
    private static partial void LogRemoved(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Orphan scan done: {Count} blobs written before {Cutoff:O} and referenced by no task were removed")]
    private static partial void LogOrphanScanDone(ILogger logger, int count, DateTime cutoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage housekeeping failed: {Reason}")]
    private static partial void LogPassFailed(ILogger logger, string reason);
}
