using AudioConverter.Core.Tasks;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Unit;

[Trait("Layer", "Unit")]
public sealed class RetryPolicyTests
{
    private static readonly RetryPolicy Policy = new(MaxAttempts: 4, BaseDelay: TimeSpan.FromSeconds(2), MaxDelay: TimeSpan.FromSeconds(10), RetryFor: TimeSpan.FromSeconds(40));

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(3, 8)]
    public void EachOfTheSystemsFailuresWaitsTwiceAsLongAsTheLast(int retries, int seconds)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var now = clock.GetUtcNow().UtcDateTime;

        var decision = Policy.Decide(retries, now);

        Assert.False(decision.GiveUp);
        Assert.Equal(now.AddSeconds(seconds), decision.RetryAt);
    }

    [Fact]
    public void TheWaitIsCappedAndTheTaskGivesUpOnceTheWaitsWouldPassTheRetryWindow()
    {
        var now = new FakeTimeProvider().GetUtcNow().UtcDateTime;

        Assert.Equal(TimeSpan.FromSeconds(10), Policy.DelayAfter(4));
        Assert.Equal(TimeSpan.FromSeconds(10), Policy.DelayAfter(80));

        // 2 + 4 + 8 + 10 + 10 = 34 s fits in the 40 s window; a sixth wait (44 s) would not.
        Assert.Equal(TimeSpan.FromSeconds(34), Policy.TotalWait(5));
        Assert.False(Policy.Decide(5, now).GiveUp);
        Assert.True(Policy.Decide(6, now).GiveUp);
        Assert.Null(Policy.Decide(6, now).RetryAt);
    }

    [Fact]
    public void TheRetryWindowDoesNotDependOnTheAttemptLimitWhichCountsOnlyClaimsWithoutAnOutcome()
    {
        var now = new FakeTimeProvider().GetUtcNow().UtcDateTime;
        var oneAttempt = Policy with { MaxAttempts = 1 };

        Assert.False(oneAttempt.Decide(5, now).GiveUp);
        Assert.True(oneAttempt.MayClaim(0));
        Assert.False(oneAttempt.MayClaim(1));
        Assert.True(Policy.MayClaim(3));
        Assert.False(Policy.MayClaim(4));
    }

    [Fact]
    public void TheDefaultsOutlastAnHourLongOutage()
    {
        // Worker defaults: base 2 s, longest wait 600 s, window 3600 s: 13 waits (3422 s), the 14th would pass the hour.
        var defaults = new RetryPolicy(3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(3600));
        var now = new FakeTimeProvider().GetUtcNow().UtcDateTime;

        Assert.Equal(TimeSpan.FromSeconds(3422), defaults.TotalWait(13));
        Assert.False(defaults.Decide(13, now).GiveUp);
        Assert.True(defaults.Decide(14, now).GiveUp);
    }
}
