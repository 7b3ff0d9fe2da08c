namespace AudioConverter.Infrastructure.Notifications;

/// <summary>
/// When to try a message again: exponential-ish waits from a configurable list, each spread by a jitter, until the
/// message is older than the maximum age. Pure: the caller passes the time and the random draw.
/// </summary>
public sealed class RetrySchedule(IReadOnlyList<TimeSpan> waits, TimeSpan maxAge, double jitter)
{
    public IReadOnlyList<TimeSpan> Waits { get; } = waits.Count > 0 ? waits : [TimeSpan.FromMinutes(1)];

    public TimeSpan MaxAge { get; } = maxAge;

    /// <summary>
    /// The next attempt after failed attempt number <paramref name="attempts"/> (1 = the first try failed), or null
    /// when the message should be given up. <paramref name="random"/> is a draw in [0, 1).
    /// </summary>
    public DateTimeOffset? Next(int attempts, DateTimeOffset createdAt, DateTimeOffset now, double random)
    {
        var wait = Waits[Math.Clamp(attempts - 1, 0, Waits.Count - 1)];
        var spread = 1 + (jitter * ((2 * random) - 1));
        var next = now + (wait * spread);
        return next - createdAt > MaxAge ? null : next;
    }
}
