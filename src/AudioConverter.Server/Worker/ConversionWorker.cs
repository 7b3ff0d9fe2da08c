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

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var concurrency = options.Value.EffectiveConcurrency;
        LogStarting(logger, concurrency);
        loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(LoopAsync, CancellationToken.None)).ToArray();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // A host that failed to start disposes its services and may still be stopped afterwards.
        if (disposed)
        {
            return;
        }

        await stopReceiving.CancelAsync();
        abandon.CancelAfter(TimeSpan.FromSeconds(options.Value.ShutdownGraceSeconds));
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
        disposed = true;
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
