using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AudioConverter.Infrastructure;

/// <summary>
/// At start-up, waits for the blob store and the queue (a restarted process, containers started in any order), one
/// log line per attempt, then gives up with one clear line once the wait (Startup:BackendWaitSeconds) is over.
/// </summary>
public static partial class BackendStartup
{
    public static async Task EnsureReadyAsync(IServiceProvider services, TimeSpan timeout, ILogger logger, CancellationToken cancellationToken)
    {
        var backends = new object[] { services.GetRequiredService<IBlobStore>(), services.GetRequiredService<ITaskQueue>() };
        var clock = services.GetRequiredService<TimeProvider>();
        foreach (var setup in backends.OfType<IBackendSetup>())
        {
            var started = clock.GetTimestamp();
            var delay = TimeSpan.FromMilliseconds(250);
            while (true)
            {
                try
                {
                    await setup.SetUpAsync(cancellationToken);
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    if (e is BackendUnreachableException)
                    {
                        throw;
                    }

                    if (clock.GetElapsedTime(started) + delay > timeout)
                    {
                        throw new BackendUnreachableException($"{setup.SettingName}: {Describe(e)} Waited {timeout.TotalSeconds:F0} s (Startup:BackendWaitSeconds); check the setting and that the server is running.", e);
                    }

                    LogWaiting(logger, setup.SettingName, (int)clock.GetElapsedTime(started).TotalSeconds, (int)timeout.TotalSeconds, Describe(e));
                    await Task.Delay(delay, clock, cancellationToken);
                    delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 4000));
                }
            }
        }
    }

    /// <summary>The messages of an exception and its causes on one line, without a stack trace.</summary>
    public static string Describe(Exception exception)
    {
        var messages = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            var message = e.Message.ReplaceLineEndings(" ").Trim();
            if (message.Length > 0 && !message.StartsWith("Exception of type", StringComparison.Ordinal) && !messages.Any(m => m.Contains(message, StringComparison.Ordinal)))
            {
                messages.Add(message.TrimEnd('.') + ".");
            }
        }

        return string.Join(" ", messages);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for {Setting}, {WaitedSeconds} s of {LimitSeconds} s (Startup:BackendWaitSeconds): {Reason}")]
    private static partial void LogWaiting(ILogger logger, string setting, int waitedSeconds, int limitSeconds, string reason);
}
