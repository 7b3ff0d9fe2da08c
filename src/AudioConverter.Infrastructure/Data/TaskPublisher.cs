using AudioConverter.Core.Queue;
using Microsoft.Extensions.Logging;

namespace AudioConverter.Infrastructure.Data;

/// <summary>
/// The one way a task's wake-up message goes out, for the upload, a re-conversion and the sweeper: the row is
/// already owed a publish (its transition left <c>PublishedAt</c> null), the message is sent, then the row is marked
/// published. A publish that fails leaves the row owed, and the sweeper sends it on its next pass; so does a process
/// that dies in between. The caller's token is never a client's: a client that goes away does not delay its task.
/// </summary>
public sealed partial class TaskPublisher(TaskTransitions transitions, ITaskQueue queue, ILogger<TaskPublisher> logger)
{
    /// <summary>A publish that takes longer than this is left to the sweeper.</summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long the sweeper leaves a task the upload or a PUT wrote to that request's own publish: its timeout, and a
    /// margin for clocks that differ between processes.
    /// </summary>
    public static readonly TimeSpan RequestsOwnPublish = PublishTimeout + TimeSpan.FromSeconds(5);

    /// <summary>Publishes a task that is owed a message under <paramref name="fence"/>; false when it stays owed.</summary>
    public async Task<bool> PublishAsync(long taskId, long fence, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(PublishTimeout);
            await queue.PublishAsync(taskId, timeout.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogPublishFailed(logger, taskId, e.Message);
            return false;
        }

        try
        {
            await transitions.PublishedAsync(taskId, fence, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The message is out; the row still says owed, so the sweeper sends a second one, which a claim makes harmless.
            LogMarkFailed(logger, taskId, e.Message);
        }

        return true;
    }

    /// <summary>The sweeper's path for a task published long ago and never claimed: owed again, then published.</summary>
    public async Task<bool> RepublishAsync(long taskId, long fence, CancellationToken cancellationToken)
    {
        await transitions.PublishOwedAsync(taskId, fence, cancellationToken);
        return await PublishAsync(taskId, fence, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing task {TaskId} failed; it stays owed and the sweeper will publish it: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, long taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} was published but could not be marked so; the sweeper may publish it again: {Reason}")]
    private static partial void LogMarkFailed(ILogger logger, long taskId, string reason);
}
