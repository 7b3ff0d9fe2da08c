namespace AudioConverter.Server.Worker;

/// <summary>
/// The loop of a housekeeping service: run a pass, log a pass that failed and carry on (the next one may succeed),
/// wait the interval, and stop quietly on shutdown.
/// </summary>
public static class PeriodicPasses
{
    public static async Task RunAsync(Func<CancellationToken, Task> pass, Func<TimeSpan> interval, Action<Exception> failed, TimeProvider clock, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await pass(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failed(e);
            }

            try
            {
                await Task.Delay(interval(), clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
