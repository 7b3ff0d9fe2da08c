using AudioConverter.Infrastructure.Notifications;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Unit;

public sealed class FeedGapsTests
{
    [Fact]
    public void AContiguousRunIsConsumedWhole()
    {
        var gaps = new FeedGaps(TimeSpan.FromSeconds(5));
        Assert.Equal(3, gaps.Consumable(10, [11, 12, 13], new FakeTimeProvider().GetUtcNow()));
    }

    [Fact]
    public void AReaderStopsAtAMissingIdUntilItCommitsOrTheWaitPasses()
    {
        var clock = new FakeTimeProvider();
        var gaps = new FeedGaps(TimeSpan.FromSeconds(5));

        // 12 is still committing: only 11 may be read.
        Assert.Equal(1, gaps.Consumable(10, [11, 13, 14], clock.GetUtcNow()));
        Assert.Equal(0, gaps.Consumable(11, [13, 14], clock.GetUtcNow()));
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(0, gaps.Consumable(11, [13, 14], clock.GetUtcNow()));

        // It committed: all of it is read.
        Assert.Equal(3, gaps.Consumable(11, [12, 13, 14], clock.GetUtcNow()));
    }

    [Fact]
    public void AnIdThatNeverCommitsIsSteppedOverAfterTheWait()
    {
        var clock = new FakeTimeProvider();
        var gaps = new FeedGaps(TimeSpan.FromSeconds(5));

        Assert.Equal(0, gaps.Consumable(11, [13, 14], clock.GetUtcNow()));
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(2, gaps.Consumable(11, [13, 14], clock.GetUtcNow()));

        // A later gap waits its own time.
        Assert.Equal(0, gaps.Consumable(14, [16], clock.GetUtcNow()));
    }
}
