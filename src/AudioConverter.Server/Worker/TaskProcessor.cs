using System.Diagnostics;
using AudioConverter.Core.Media;
using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Storage;
using AudioConverter.Server.Conversion;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Worker;

/// <summary>
/// One delivery: claim the task (a lease on the database's clock and a new fence), convert, store the output under a
/// key carrying the fence, finish the row only while the fence is still this claim's, then settle the message. A
/// renewal that finds the fence gone stops ffmpeg at once and deletes what this claim wrote. Whatever happens, the
/// renewer stops and the message is settled in <c>finally</c>; an outcome that cannot be recorded (the database is
/// down) leaves the lease to expire, and the sweeper takes the task over.
/// </summary>
public sealed partial class TaskProcessor(
    IServiceScopeFactory scopes,
    IBlobStore blobs,
    IMediaConverter media,
    IOptions<WorkerOptions> workerOptions,
    TimeProvider clock,
    ILogger<TaskProcessor> logger)
{
    // Every line logged while a task is processed carries its id.
    private static readonly Func<ILogger, long, IDisposable?> TaskScope = LoggerMessage.DefineScope<long>("Task {TaskId}");

    private readonly WorkerOptions options = workerOptions.Value;
    private int claimFailures;

    /// <summary>Processes one delivery. <paramref name="stopping"/> asks to hand the task back instead of finishing it.</summary>
    public async Task ProcessAsync(IQueueDelivery delivery, CancellationToken stopping)
    {
        using var activity = Telemetry.AudioConverterTracing.StartProcessing(delivery);
        using var scope = TaskScope(logger, delivery.TaskId);
        var leaseOwner = Guid.NewGuid().ToString("N");
        if (await ClaimAsync(delivery, leaseOwner, stopping) is not { } claim)
        {
            return;
        }

        if (claim.Outcome == ClaimOutcome.Deferred)
        {
            await DeferAsync(delivery);
            return;
        }

        if (claim.Task is not { } task)
        {
            // Already claimed, finished, deleted, waiting for a retry or at its attempt limit: nothing to do for this message.
            await SettleAsync(() => delivery.AckAsync(CancellationToken.None));
            return;
        }

        LogClaimed(logger, task.Id, task.Version, task.Attempts, task.Fence);
        using var conversion = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        using var renewal = new CancellationTokenSource();
        var lease = new LeaseState();
        var renewer = RenewLeaseAsync(task, delivery, lease, conversion, renewal.Token);
        var outcome = Outcome.LeftToExpire;
        try
        {
            outcome = await ConvertAsync(task, leaseOwner, lease, conversion.Token, stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            // Recording the outcome failed: the lease is left to expire and the sweeper reclaims the task.
            LogOutcomeNotRecorded(logger, task.Id, e.Message);
        }
        finally
        {
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
    }

    /// <summary>Claims the delivery's task; null when the database could not be asked (the message is then handed back).</summary>
    private async Task<ClaimResult?> ClaimAsync(IQueueDelivery delivery, string leaseOwner, CancellationToken stopping)
    {
        try
        {
            var claim = await WithTransitionsAsync(t => t.ClaimAsync(delivery.TaskId, leaseOwner, options.ClaimRules, stopping));
            Volatile.Write(ref claimFailures, 0);
            return claim;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The database is unreachable: back off first (1 s, doubling to 30 s), holding the message, so waiting
            // messages do not cycle through the broker towards its dead-letter queue; then hand it back, untouched.
            LogClaimFailed(logger, delivery.TaskId, e.Message);
            var failures = Interlocked.Increment(ref claimFailures);
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(failures, 6) - 1))), clock, stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            await SettleAsync(() => delivery.NackAsync(requeue: true, CancellationToken.None));
            return null;
        }
    }

    /// <summary>The owner has its share of the workers while others wait: the task is offered again shortly, by the sweeper.</summary>
    private async Task DeferAsync(IQueueDelivery delivery)
    {
        try
        {
            await WithTransitionsAsync(t => t.DeferAsync(delivery.TaskId, options.FairnessDelay, CancellationToken.None));
            LogDeferred(logger, delivery.TaskId);
            await SettleAsync(() => delivery.AckAsync(CancellationToken.None));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogClaimFailed(logger, delivery.TaskId, e.Message);
            await SettleAsync(() => delivery.NackAsync(requeue: true, CancellationToken.None));
        }
    }

    private async Task<Outcome> ConvertAsync(ConversionTask task, string leaseOwner, LeaseState lease, CancellationToken cancellationToken, CancellationToken stopping)
    {
        var format = AudioFormat.Find(task.NewFormat);
        var workFolder = Path.Combine(options.EffectiveTempPath, $"{task.Id}-v{task.Version}-{leaseOwner}");
        var started = Stopwatch.GetTimestamp();
        string? inputPath = null, storedKey = null;
        try
        {
            if (format is null)
            {
                return await FailAsync(task, $"The format '{task.NewFormat}' is not supported.");
            }

            // Work not done twice: an identical earlier conversion of this user's gives its output, copied to this claim's key.
            storedKey = task.OutputKeyFor(format);
            if (await ReuseAsync(task, storedKey, cancellationToken) is { } reused)
            {
                return await FinishReusedAsync(task, reused, storedKey, started);
            }

            storedKey = null;
            Directory.CreateDirectory(workFolder);
            inputPath = await blobs.LocalFileAsync(task.InputKey, workFolder, cancellationToken);
            if (inputPath is null)
            {
                return await FailAsync(task, "The uploaded file is missing from storage; upload it again.");
            }

            var outputPath = Path.Combine(workFolder, "output." + format.Extension);
            var conversion = await TaskConversion.RunAsync(media, scopes, task, format, inputPath, outputPath, cancellationToken);
            if (OutputRefusal(task, outputPath) is { } refusal)
            {
                return await FailAsync(task, refusal);
            }

            var outputKey = storedKey = task.OutputKeyFor(format);
            var stored = await blobs.PutFileAsync(outputKey, outputPath, cancellationToken);
            return await FinishAsync(task, conversion with { Output = conversion.Output with { Sha256 = stored.Sha256 } }, outputKey, stored.Bytes, started);
        }
        catch (Exception) when (lease.Lost)
        {
            return await LeaseLostAsync(storedKey);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return await HandBackAsync(task, storedKey);
        }
        catch (MediaException e) when (e.IsInputFault && InputStillThere(workFolder, inputPath))
        {
            return await FailAsync(task, e.Message);
        }
        catch (Exception e)
        {
            return await TransientFailureAsync(task, e, storedKey);
        }
        finally
        {
            TryDeleteFolder(workFolder);
        }
    }

    /// <summary>The renewal found the fence gone and stopped ffmpeg: delete what this claim wrote, the winner owns the rest.</summary>
    private async Task<Outcome> LeaseLostAsync(string? storedKey)
    {
        await DeleteQuietlyAsync(storedKey);
        return Outcome.LeaseLost;
    }

    /// <summary>A failure that is not the input's (a backend away, a tool that broke): retried while attempts are left.</summary>
    private async Task<Outcome> TransientFailureAsync(ConversionTask task, Exception e, string? storedKey)
    {
        LogTransientFailure(logger, e, task.Id, task.Retries + 1);
        await DeleteQuietlyAsync(storedKey);
        return await RetryOrFailAsync(task, e is MediaException { IsInputFault: false } ? e.Message : "The conversion could not be completed because a service it needs was unavailable.");
    }

    /// <summary>Records the output copied from an identical earlier conversion, only while the fence is still this claim's.</summary>
    private async Task<Outcome> FinishReusedAsync(ConversionTask task, ConversionReuse.Reused reused, string storedKey, long started)
    {
        var done = await WithTransitionsAsync(t => t.FinishAsync(task.Id, task.Fence, reused.OutputKey, reused.OutputBytes, reused.DurationSeconds, reused.Result, CancellationToken.None));
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (done)
        {
            LogReused(logger, task.Id, reused.SourceTaskId, reused.OutputBytes, elapsed.TotalMilliseconds);
        }

        Telemetry.AudioConverterMetrics.RecordConversion(task.NewFormat, done ? "reused" : "lost-lease", elapsed, reused.DurationSeconds);
        return await FinishedAsync(task, done, storedKey);
    }

    /// <summary>The worker is stopping: what this claim stored is deleted and the task is handed back for another worker.</summary>
    private async Task<Outcome> HandBackAsync(ConversionTask task, string? storedKey)
    {
        await DeleteQuietlyAsync(storedKey);
        await WithTransitionsAsync(t => t.HandBackAsync(task.Id, task.Fence, CancellationToken.None));
        LogHandedBack(logger, task.Id);
        return Outcome.HandedBack;
    }

    /// <summary>Why the file ffmpeg wrote may not be stored (over this upload's output cap); null when it may.</summary>
    private string? OutputRefusal(ConversionTask task, string outputPath)
    {
        // The file ffmpeg wrote must still be there: if it is not, something else removed it, and that is not the input's fault.
        var written = new FileInfo(outputPath);
        if (!written.Exists)
        {
            throw new IOException("The converted file disappeared from the work folder before it was stored.");
        }

        var cap = options.OutputCapFor(task.InputBytes);
        return written.Length > cap
            ? $"The converted file would be {written.Length:N0} bytes, over this upload's output limit of {cap:N0} bytes ({options.OutputExpansionFactor:0.##} times the input, at least {options.MinOutputCapBytes:N0} bytes; Worker:OutputExpansionFactor). Choose a more compact format or a shorter part of the file."
            : null;
    }

    /// <summary>Records the stored output on the task, only while the fence is still this claim's.</summary>
    private async Task<Outcome> FinishAsync(ConversionTask task, ConversionResult conversion, string outputKey, long outputBytes, long started)
    {
        var outputDuration = conversion.Output.DurationSeconds;
        var finished = await WithTransitionsAsync(t => t.FinishAsync(task.Id, task.Fence, outputKey, outputBytes, outputDuration, conversion.ToJson(), CancellationToken.None));
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (finished)
        {
            LogProcessed(logger, task.Id, conversion.Input.Container, conversion.Input.Codec, task.NewFormat, outputBytes, elapsed.TotalMilliseconds);
        }

        Telemetry.AudioConverterMetrics.RecordConversion(task.NewFormat, finished ? "processed" : "lost-lease", elapsed, outputDuration);
        return await FinishedAsync(task, finished, outputKey);
    }

    /// <summary>Done, or, when the row was not updated, the lease lost and this claim's output deleted.</summary>
    private async Task<Outcome> FinishedAsync(ConversionTask task, bool finished, string storedKey)
    {
        if (!finished)
        {
            // Another claim owns the task now: this claim's output (its key carries this fence) is nobody's.
            LogLeaseLost(logger, task.Id, task.Fence);
            await DeleteQuietlyAsync(storedKey);
            return Outcome.LeaseLost;
        }

        return Outcome.Done;
    }

    private async Task<ConversionReuse.Reused?> ReuseAsync(ConversionTask task, string outputKey, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await ConversionReuse.TryCopyAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>(), blobs, task, outputKey, cancellationToken);
    }

    /// <summary>
    /// An input fault is the input's only while the work folder and the input are intact; if either vanished under
    /// ffmpeg (a cleaner, a full disk, an operator), the failure is the system's and the task is retried.
    /// </summary>
    private static bool InputStillThere(string workFolder, string? inputPath) =>
        Directory.Exists(workFolder) && inputPath is not null && File.Exists(inputPath);

    private async Task<Outcome> FailAsync(ConversionTask task, string message)
    {
        LogFailed(logger, task.Id, message);

        // A lost fence means another worker owns the outcome; the e-mail follows the task.failed event the transition wrote.
        var failed = await WithTransitionsAsync(t => t.FailAsync(task.Id, task.Fence, message, CancellationToken.None));
        var now = clock.GetUtcNow().UtcDateTime;
        Telemetry.AudioConverterMetrics.RecordConversion(task.NewFormat, failed ? "failed" : "lost-lease", now - (task.StartedAt ?? now), null);

        return Outcome.Done;
    }

    private async Task<Outcome> RetryOrFailAsync(ConversionTask task, string message)
    {
        var now = await WithTransitionsAsync(t => t.NowAsync(CancellationToken.None));
        var policy = options.RetryPolicy;
        var retries = task.Retries + 1;
        var decision = policy.Decide(retries, now);
        if (decision.GiveUp)
        {
            var waited = policy.TotalWait(retries - 1);
            return await FailAsync(task, $"{message} Gave up after {retries} tries over {Waited(waited)}; convert it again later.");
        }

        Telemetry.AudioConverterMetrics.Retries.Add(1);
        await WithTransitionsAsync(t => t.RetryAsync(task.Id, task.Fence, decision.RetryAt!.Value, CancellationToken.None));
        return Outcome.Done;
    }

    private static string Waited(TimeSpan waited) =>
        waited >= TimeSpan.FromMinutes(2)
            ? $"{Math.Round(waited.TotalMinutes).ToString(System.Globalization.CultureInfo.InvariantCulture)} minutes"
            : $"{Math.Round(waited.TotalSeconds, 1).ToString(System.Globalization.CultureInfo.InvariantCulture)} s";

    private async Task RenewLeaseAsync(ConversionTask task, IQueueDelivery delivery, LeaseState lease, CancellationTokenSource conversion, CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, options.Lease.TotalSeconds / 3));
        try
        {
            while (true)
            {
                await Task.Delay(period, clock, cancellationToken);
                try
                {
                    var held = await WithTransitionsAsync(t => t.RenewAsync(task.Id, task.Fence, options.LeaseSeconds, cancellationToken));
                    if (!held && await WithTransitionsAsync(t => t.OutcomeRecordedAsync(task.Id, task.Fence, cancellationToken)))
                    {
                        // This claim's own finish or failure won just before this renewal: nothing was lost.
                        return;
                    }

                    if (!held)
                    {
                        // Another claim took the task (this lease expired): stop converting now.
                        lease.Lost = true;
                        LogLeaseLost(logger, task.Id, task.Fence);
                        await conversion.CancelAsync();
                        return;
                    }

                    await delivery.KeepAliveAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogRenewFailed(logger, task.Id, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The conversion ended.
        }
    }

    private async Task<T> WithTransitionsAsync<T>(Func<TaskTransitions, Task<T>> transition)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await transition(scope.ServiceProvider.GetRequiredService<TaskTransitions>());
    }

    private async Task DeleteQuietlyAsync(string? key)
    {
        if (key is null)
        {
            return;
        }

        try
        {
            await blobs.DeleteAsync(key, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Not referenced by any row: the orphan scan removes it later.
            LogDeleteFailed(logger, key, e.Message);
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
        /// <summary>The row says processed, failed or retry: ack.</summary>
        Done,

        /// <summary>Given back on shutdown: nack so another worker takes it now.</summary>
        HandedBack,

        /// <summary>Another claim owns the task: ack, the winner settles its own message.</summary>
        LeaseLost,

        /// <summary>The outcome could not be recorded: ack, the lease expires and the sweeper reclaims the task.</summary>
        LeftToExpire,
    }

    private sealed class LeaseState
    {
        public volatile bool Lost;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Claimed task {TaskId} version {Version} (attempt {Attempt}, fence {Fence})")]
    private static partial void LogClaimed(ILogger logger, long taskId, int version, int attempt, long fence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the lease of task {TaskId} (fence {Fence}); stopped and deleted this claim's output")]
    private static partial void LogLeaseLost(ILogger logger, long taskId, long fence);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not record the outcome of task {TaskId}; its lease will expire and the sweeper takes it over: {Reason}")]
    private static partial void LogOutcomeNotRecorded(ILogger logger, long taskId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} deferred: its owner has its share of the workers while others wait")]
    private static partial void LogDeferred(ILogger logger, long taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete blob {Key}: {Reason}")]
    private static partial void LogDeleteFailed(ILogger logger, string key, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Processed task {TaskId} to {Format} from {InputFormat} ({InputCodec}): {OutputBytes} bytes in {ElapsedMs} ms")]
    private static partial void LogProcessed(ILogger logger, long taskId, string inputFormat, string? inputCodec, string format, long outputBytes, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Processed task {TaskId} by reusing the output of task {SourceTaskId} (same file, format and options): {OutputBytes} bytes copied in {ElapsedMs} ms")]
    private static partial void LogReused(ILogger logger, long taskId, long sourceTaskId, long outputBytes, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, long taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} hit a transient failure (the system's; retry {Retry})")]
    private static partial void LogTransientFailure(ILogger logger, Exception exception, long taskId, int retry);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not claim task {TaskId}: {Reason}")]
    private static partial void LogClaimFailed(ILogger logger, long taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the lease of task {TaskId}: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, long taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not settle a queue message: {Reason}")]
    private static partial void LogSettleFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handed task {TaskId} back on shutdown")]
    private static partial void LogHandedBack(ILogger logger, long taskId);
}
