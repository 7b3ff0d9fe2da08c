namespace AudioConverter.Server.Hosting;

/// <summary>
/// Starts a background service only once the web server listens. The host starts hosted services before the
/// server binds its address, so without this a port already taken would stop the program after the worker had
/// claimed tasks; with it, a failed bind leaves nothing started.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The host may call StopAsync after it disposed its services, so the token source is never disposed; without a timer it holds nothing to release.")]
public sealed class StartsAfterTheServer<T>(T inner, IHostApplicationLifetime lifetime) : IHostedService
    where T : IHostedService
{
    private readonly CancellationTokenSource stopping = new();
    private Task? started;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => started = inner.StartAsync(stopping.Token));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        if (started is null)
        {
            return;
        }

        try
        {
            await started;
        }
        catch (OperationCanceledException)
        {
            // Stopped while starting.
        }

        await inner.StopAsync(cancellationToken);
    }
}
