using System.Diagnostics;
using AudioConverter.Core.Media;
using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Worker;

/// <summary>
/// One delivery: claim the task with a conditional update and a lease, probe, convert, store the output
/// under a key of the task's version, finish the row, then settle the message.
/// </summary>
public sealed partial class TaskProcessor(
    IServiceScopeFactory scopes,
    IBlobStore blobs,
    IMediaConverter media,
    IOptions<WorkerOptions> workerOptions,
    TimeProvider clock,
    ILogger<TaskProcessor> logger)
{
    private readonly WorkerOptions options = workerOptions.Value;

    /// <summary>Processes one delivery. <paramref name="stopping"/> asks to hand the task back instead of finishing it.</summary>
    public async Task ProcessAsync(IQueueDelivery delivery, CancellationToken stopping)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["TaskId"] = delivery.TaskId });
        var leaseOwner = Guid.NewGuid().ToString("N");
        ConversionTask? task;
        try
        {
            task = await ClaimAsync(delivery.TaskId, leaseOwner, stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The database is unreachable: hand the message back; the row is untouched.
            LogClaimFailed(logger, delivery.TaskId, e.Message);
            await SettleAsync(() => delivery.NackAsync(requeue: true, CancellationToken.None));
            await Task.Delay(TimeSpan.FromSeconds(1), stopping);
            return;
        }

        if (task is null)
        {
            // Already claimed, finished, deleted or waiting for a retry: nothing to do for this message.
            await SettleAsync(() => delivery.AckAsync(CancellationToken.None));
            return;
        }

        LogClaimed(logger, task.Id, task.Version, task.Attempts);
        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var renewer = RenewLeaseAsync(task.Id, leaseOwner, delivery, renewal.Token);
        var outcome = await ConvertAsync(task, leaseOwner, stopping);
        await renewal.CancelAsync();
        await renewer;

        if (outcome == Outcome.HandedBack)
        {
            await SettleAsync(() => delivery.NackAsync(requeue: true, CancellationToken.None));
        }
        else
        {
            await SettleAsync(() => delivery.AckAsync(CancellationToken.None));
        }
    }

    private async Task<ConversionTask?> ClaimAsync(long taskId, string leaseOwner, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var leaseUntil = now.AddSeconds(options.LeaseSeconds);
        var claimed = await db.Tasks
            .Where(t => t.Id == taskId
                && ((t.Status == ConversionStatus.Uploaded && (t.NotBefore == null || t.NotBefore <= now))
                    || (t.Status == ConversionStatus.Processing && t.LeaseExpiresAt < now)))
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.Status, ConversionStatus.Processing)
                .SetProperty(t => t.LeaseOwner, leaseOwner)
                .SetProperty(t => t.LeaseExpiresAt, leaseUntil)
                .SetProperty(t => t.StartedAt, now)
                .SetProperty(t => t.Attempts, t => t.Attempts + 1)
                .SetProperty(t => t.NotBefore, (DateTime?)null)
                .SetProperty(t => t.UpdatedAt, now), cancellationToken);
        return claimed == 0 ? null : await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId && t.LeaseOwner == leaseOwner, cancellationToken);
    }

    private async Task<Outcome> ConvertAsync(ConversionTask task, string leaseOwner, CancellationToken stopping)
    {
        var format = AudioFormat.Find(task.NewFormat);
        var workFolder = Path.Combine(options.EffectiveTempPath, $"{task.Id}-v{task.Version}-{leaseOwner}");
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (format is null)
            {
                return await FailAsync(task, leaseOwner, $"The format '{task.NewFormat}' is not supported.");
            }

            Directory.CreateDirectory(workFolder);
            var inputPath = await LocalInputAsync(task, workFolder, stopping);
            if (inputPath is null)
            {
                return await FailAsync(task, leaseOwner, "The uploaded file is missing from storage; upload it again.");
            }

            var outputPath = Path.Combine(workFolder, "output." + format.Extension);
            var conversion = await media.ConvertAsync(inputPath, outputPath, format, stopping);
            var outputDuration = conversion.OutputDurationSeconds ?? conversion.InputDurationSeconds;

            var outputKey = task.OutputKeyFor(format);
            var outputBytes = await StoreOutputAsync(outputKey, outputPath, stopping);

            var finished = await FinishAsync(task, leaseOwner, outputKey, outputBytes, outputDuration);
            LogProcessed(logger, task.Id, conversion.InputFormat, conversion.InputCodec, task.NewFormat, outputBytes, Stopwatch.GetElapsedTime(started).TotalMilliseconds, finished);

            return Outcome.Done;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await ReleaseAsync(task, leaseOwner);
            return Outcome.HandedBack;
        }
        catch (MediaException e) when (e.IsInputFault)
        {
            return await FailAsync(task, leaseOwner, e.Message);
        }
        catch (Exception e)
        {
            LogTransientFailure(logger, e, task.Id, task.Attempts);
            return await RetryOrFailAsync(task, leaseOwner, e is MediaException ? e.Message : "The conversion could not be completed because a service it needs was unavailable.");
        }
        finally
        {
            TryDeleteFolder(workFolder);
        }
    }

    private async Task<long> StoreOutputAsync(string key, string outputPath, CancellationToken cancellationToken)
    {
        // The local store takes the file by a rename: no second write of a possibly large output.
        if (blobs is LocalDiskBlobStore local)
        {
            return local.MoveIn(key, outputPath);
        }

        await using var output = File.OpenRead(outputPath);
        return await blobs.PutAsync(key, output, cancellationToken);
    }

    private async Task<string?> LocalInputAsync(ConversionTask task, string workFolder, CancellationToken cancellationToken)
    {
        // The local store already has the file on disk: no copy needed.
        if (blobs is LocalDiskBlobStore local)
        {
            return local.LocalPathOf(task.InputKey);
        }

        var stream = await blobs.OpenReadAsync(task.InputKey, cancellationToken);
        if (stream is null)
        {
            return null;
        }

        var path = Path.Combine(workFolder, "input" + Path.GetExtension(task.InputKey));
        await using (stream)
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
        {
            await stream.CopyToAsync(file, 81920, cancellationToken);
        }

        return path;
    }

    private async Task<bool> FinishAsync(ConversionTask task, string leaseOwner, string outputKey, long outputBytes, double? duration)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var updated = await db.Tasks
            .Where(t => t.Id == task.Id && t.LeaseOwner == leaseOwner && t.Status == ConversionStatus.Processing)
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.Status, ConversionStatus.Processed)
                .SetProperty(t => t.OutputKey, outputKey)
                .SetProperty(t => t.OutputBytes, outputBytes)
                .SetProperty(t => t.DurationSeconds, duration)
                .SetProperty(t => t.ProcessedAt, now)
                .SetProperty(t => t.Error, (string?)null)
                .SetProperty(t => t.LeaseOwner, (string?)null)
                .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(t => t.UpdatedAt, now), CancellationToken.None);
        return updated == 1;
    }

    private async Task<Outcome> FailAsync(ConversionTask task, string leaseOwner, string message)
    {
        LogFailed(logger, task.Id, message);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var updated = await db.Tasks
            .Where(t => t.Id == task.Id && t.LeaseOwner == leaseOwner && t.Status == ConversionStatus.Processing)
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.Status, ConversionStatus.Failed)
                .SetProperty(t => t.Error, message)
                .SetProperty(t => t.ProcessedAt, now)
                .SetProperty(t => t.LeaseOwner, (string?)null)
                .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(t => t.UpdatedAt, now), CancellationToken.None);

        return Outcome.Done;
    }

    private async Task<Outcome> RetryOrFailAsync(ConversionTask task, string leaseOwner, string message)
    {
        if (task.Attempts >= options.MaxAttempts)
        {
            return await FailAsync(task, leaseOwner, $"{message} Gave up after {task.Attempts} attempts; convert it again later.");
        }

        var notBefore = clock.GetUtcNow().UtcDateTime.AddSeconds(options.RetryBaseDelaySeconds * Math.Pow(2, task.Attempts - 1));
        await ReturnToQueueAsync(task, leaseOwner, notBefore, attemptsBack: 0);
        return Outcome.Done;
    }

    /// <summary>Gives the task back untouched, its attempt not counted, so another worker can take it at once.</summary>
    private Task ReleaseAsync(ConversionTask task, string leaseOwner) => ReturnToQueueAsync(task, leaseOwner, notBefore: null, attemptsBack: 1);

    /// <summary>
    /// Puts a task this worker holds back to uploaded and owed a message, so the sweeper publishes it (after
    /// <paramref name="notBefore"/> for a retry). If the database is down too, the lease expires and the sweeper reclaims it.
    /// </summary>
    private async Task ReturnToQueueAsync(ConversionTask task, string leaseOwner, DateTime? notBefore, int attemptsBack)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var now = clock.GetUtcNow().UtcDateTime;
            await db.Tasks
                .Where(t => t.Id == task.Id && t.LeaseOwner == leaseOwner && t.Status == ConversionStatus.Processing)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(t => t.Status, ConversionStatus.Uploaded)
                    .SetProperty(t => t.NotBefore, notBefore)
                    .SetProperty(t => t.Attempts, t => t.Attempts - attemptsBack)
                    .SetProperty(t => t.PublishedAt, (DateTime?)null)
                    .SetProperty(t => t.LeaseOwner, (string?)null)
                    .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
                    .SetProperty(t => t.UpdatedAt, now), CancellationToken.None);
            if (attemptsBack > 0)
            {
                LogHandedBack(logger, task.Id);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogReleaseFailed(logger, task.Id, e.Message);
        }
    }

    private async Task RenewLeaseAsync(long taskId, string leaseOwner, IQueueDelivery delivery, CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, options.LeaseSeconds / 3.0));
        try
        {
            while (true)
            {
                await Task.Delay(period, clock, cancellationToken);
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                    var until = clock.GetUtcNow().UtcDateTime.AddSeconds(options.LeaseSeconds);
                    await db.Tasks.Where(t => t.Id == taskId && t.LeaseOwner == leaseOwner)
                        .ExecuteUpdateAsync(s => s.SetProperty(t => t.LeaseExpiresAt, until), cancellationToken);
                    await delivery.KeepAliveAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogRenewFailed(logger, taskId, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The conversion ended.
        }
    }

    private async Task SettleAsync(Func<Task> settle)
    {
        try
        {
            await settle();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The broker redelivers an unsettled message; the conditional claim makes that harmless.
            LogSettleFailed(logger, e.Message);
        }
    }

    private static void TryDeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover temp folder is cleaned at the next start.
        }
    }

    private enum Outcome
    {
        Done,
        HandedBack,
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Claimed task {TaskId} version {Version} (attempt {Attempt})")]
    private static partial void LogClaimed(ILogger logger, long taskId, int version, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Processed task {TaskId} to {Format} from {InputFormat} ({InputCodec}): {OutputBytes} bytes in {ElapsedMs} ms (row updated: {Finished})")]
    private static partial void LogProcessed(ILogger logger, long taskId, string inputFormat, string? inputCodec, string format, long outputBytes, double elapsedMs, bool finished);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, long taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} hit a transient failure on attempt {Attempt}")]
    private static partial void LogTransientFailure(ILogger logger, Exception exception, long taskId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not claim task {TaskId}: {Reason}")]
    private static partial void LogClaimFailed(ILogger logger, long taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release task {TaskId}; its lease will expire: {Reason}")]
    private static partial void LogReleaseFailed(ILogger logger, long taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the lease of task {TaskId}: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, long taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not settle a queue message: {Reason}")]
    private static partial void LogSettleFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handed task {TaskId} back on shutdown")]
    private static partial void LogHandedBack(ILogger logger, long taskId);
}
