namespace AudioConverter.Core.Queue;

/// <summary>
/// A queue that parks messages it gave up on. The row stays the truth: draining only removes the parked
/// messages (the sweeper republishes every task that is still owed a message), so the dead letters stay bounded.
/// </summary>
public interface IDeadLetterQueue
{
    /// <summary>Removes up to <paramref name="max"/> parked messages and returns their task ids.</summary>
    Task<IReadOnlyList<long>> DrainDeadLettersAsync(int max, CancellationToken cancellationToken);
}
