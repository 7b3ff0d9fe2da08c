namespace AudioConverter.Infrastructure.Notifications;

/// <summary>
/// Reading task_events by increasing id: on PostgreSQL ids come from a sequence, so a transaction that took id 7 may
/// commit after the one that took id 8. A reader that moved its cursor to 8 would never see 7. So a reader consumes
/// only the contiguous run after its cursor, and waits up to <paramref name="gapWait"/> for a missing id before
/// deciding it belongs to a rolled-back transaction and stepping over it.
/// </summary>
public sealed class FeedGaps(TimeSpan gapWait)
{
    private long gapAt = -1;
    private DateTimeOffset gapSince;

    /// <summary>How many of <paramref name="ids"/> (increasing, all above <paramref name="position"/>) may be consumed now.</summary>
    public int Consumable(long position, IReadOnlyList<long> ids, DateTimeOffset now)
    {
        var expected = position + 1;
        var count = 0;
        foreach (var id in ids)
        {
            if (id != expected)
            {
                if (gapAt != expected)
                {
                    gapAt = expected;
                    gapSince = now;
                    break;
                }

                if (now - gapSince < gapWait)
                {
                    break;
                }

                gapAt = -1;
            }

            count++;
            expected = id + 1;
        }

        return count;
    }
}
