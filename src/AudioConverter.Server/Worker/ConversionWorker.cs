using AudioConverter.Core.Queue;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Worker;

/// <summary>
/// Receives messages with a fixed number of loops. On shutdown it stops receiving at once, lets running
/// conversions finish within the grace period, then hands back whatever is still running.
/// </summary>
public sealed partial class ConversionWorker(ITaskQueue queue, TaskProcessor processor, IOptions<WorkerOptions> options, ILogger<ConversionWorker> logger)
    : IHostedService, IDisposable
{
    private readonly CancellationTokenSource stopReceiving = new();
    private readonly CancellationTokenSource abandon = new();
    private Task[] loops = [];
    private bool disposed;
    private readonly Lock gate = new();
    private Task? stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var concurrency = options.Value.EffectiveConcurrency;
        LogStarting(logger, concurrency);
        loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(LoopAsync, CancellationToken.None)).ToArray();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops once, however often it is called: a host run by RunAsync may be stopped both by its own shutdown and by
    /// whoever asked for it (the test host does this), and disposes its services as soon as the first stop ends.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return stopping ??= disposed ? Task.CompletedTask : StopOnceAsync(cancellationToken);
        }
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        await stopReceiving.CancelAsync();
        abandon.CancelAfter(options.Value.ShutdownGrace);
        await using var registration = cancellationToken.Register(abandon.Cancel);
        await Task.WhenAll(loops);
        LogStopped(logger);
    }

    private async Task LoopAsync()
    {
        while (!stopReceiving.IsCancellationRequested)
        {
            IQueueDelivery delivery;
            try
            {
                delivery = await queue.ReceiveAsync(stopReceiving.Token);
            }
            catch (OperationCanceledException) when (stopReceiving.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogReceiveFailed(logger, e.Message);
                await DelayQuietlyAsync(TimeSpan.FromSeconds(2));
                continue;
            }

            try
            {
                await processor.ProcessAsync(delivery, abandon.Token);
            }
            catch (OperationCanceledException) when (abandon.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogProcessFailed(logger, e, delivery.TaskId);
            }
        }
    }

    private async Task DelayQuietlyAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, stopReceiving.Token);
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
        }

        stopReceiving.Dispose();
        abandon.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker starting with {Concurrency} concurrent conversions")]
    private static partial void LogStarting(ILogger logger, int concurrency);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving from the queue failed: {Reason}")]
    private static partial void LogReceiveFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing task {TaskId} failed unexpectedly")]
    private static partial void LogProcessFailed(ILogger logger, Exception exception, long taskId);
}
