using AudioConverter.Core.Queue;
using Microsoft.Extensions.Logging;

namespace AudioConverter.Infrastructure.Data;

/// <summary>
/// The one way a task's wake-up message goes out, for the upload, a re-conversion and the sweeper: the row is
/// already owed a publish (its transition left <c>PublishedAt</c> null), the message is sent, then the row is marked
/// published. A publish that fails leaves the row owed, and the sweeper sends it on its next pass; so does a process
/// that dies in between. On a queue that does not outlive the process an upload's row is marked by its insert instead
/// (<see cref="MarksOnInsert"/>). The caller's token is never a client's: a client that goes away does not delay its task.
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

    /// <summary>
    /// Whether an upload's row is marked published by its own insert instead of by an update after the send: true for
    /// a queue that does not outlive the process (the in-process channel). Its messages die with the process, and the
    /// sweeper's first pass after a restart publishes every waiting task whatever its mark, so a mark written after
    /// the send guards nothing there; without it an upload commits once instead of twice. A durable queue keeps the
    /// mark after the send: a process that dies in between leaves the row owed, and the sweeper sends it.
    /// </summary>
    public bool MarksOnInsert => !queue.IsDurable;

    /// <summary>
    /// The upload's publish of a task created by <see cref="TaskTransitions.CreateAsync"/> with
    /// <see cref="MarksOnInsert"/>: only a send that fails makes the row owed again, for the sweeper to send.
    /// </summary>
    public async Task<bool> PublishCreatedAsync(long taskId, long fence, CancellationToken cancellationToken)
    {
        if (!MarksOnInsert)
        {
            return await PublishAsync(taskId, fence, cancellationToken);
        }

        if (await SendAsync(taskId, cancellationToken))
        {
            return true;
        }

        try
        {
            await transitions.PublishOwedAsync(taskId, fence, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Not sent and still marked: the sweeper's republish of tasks published long ago without a claim sends it.
            LogOwedMarkFailed(logger, taskId, e.Message);
        }

        return false;
    }

    /// <summary>Publishes a task that is owed a message under <paramref name="fence"/>; false when it stays owed.</summary>
    public async Task<bool> PublishAsync(long taskId, long fence, CancellationToken cancellationToken)
    {
        if (!await SendAsync(taskId, cancellationToken))
        {
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

    private async Task<bool> SendAsync(long taskId, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(PublishTimeout);
            await queue.PublishAsync(taskId, timeout.Token);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogPublishFailed(logger, taskId, e.Message);
            return false;
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} was not published and could not be marked owed; the sweeper publishes it after Worker:RepublishAfterSeconds: {Reason}")]
    private static partial void LogOwedMarkFailed(ILogger logger, long taskId, string reason);
}
