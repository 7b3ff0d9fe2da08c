using AudioConverter.Core.Tasks;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Unit;

[Trait("Layer", "Unit")]
public sealed class RetryPolicyTests
{
    private static readonly RetryPolicy Policy = new(MaxAttempts: 4, BaseDelay: TimeSpan.FromSeconds(2), MaxDelay: TimeSpan.FromSeconds(10));

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(3, 8)]
    public void EachTransientFailureWaitsTwiceAsLongAsTheLast(int attempts, int seconds)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var now = clock.GetUtcNow().UtcDateTime;

        var decision = Policy.Decide(attempts, now);

        Assert.False(decision.GiveUp);
        Assert.Equal(now.AddSeconds(seconds), decision.RetryAt);
    }

    [Fact]
    public void TheWaitIsCappedAndTheLimitGivesUp()
    {
        var now = new FakeTimeProvider().GetUtcNow().UtcDateTime;
        var unbounded = Policy with { MaxAttempts = 100 };

        Assert.Equal(TimeSpan.FromSeconds(10), unbounded.DelayAfter(4));
        Assert.Equal(TimeSpan.FromSeconds(10), unbounded.DelayAfter(80));
        Assert.True(Policy.Decide(4, now).GiveUp);
        Assert.Null(Policy.Decide(4, now).RetryAt);
        Assert.True(Policy.MayClaim(3));
        Assert.False(Policy.MayClaim(4));
    }
}
