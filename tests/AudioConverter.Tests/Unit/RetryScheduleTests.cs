using AudioConverter.Infrastructure.Notifications;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Unit;

public sealed class RetryScheduleTests
{
    private static readonly RetrySchedule Default = new WebhookOptions().Schedule;

    [Fact]
    public void WaitsGrowAlongTheListAndTheLastRepeats()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var created = clock.GetUtcNow();
        var waits = new List<TimeSpan>();
        for (var attempt = 1; attempt <= 6; attempt++)
        {
            var next = Default.Next(attempt, created, clock.GetUtcNow(), random: 0.5)!.Value;
            waits.Add(next - clock.GetUtcNow());
            clock.SetUtcNow(next);
        }

        Assert.Equal([5, 60, 300, 1800, 7200, 18000], waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public void JitterSpreadsAWaitByTwentyPercentEitherWay()
    {
        var now = new FakeTimeProvider().GetUtcNow();

        Assert.Equal(TimeSpan.FromSeconds(240), Default.Next(3, now, now, random: 0)!.Value - now);
        Assert.Equal(TimeSpan.FromSeconds(360), Default.Next(3, now, now, random: 1)!.Value - now);
    }

    [Fact]
    public void AMessageIsGivenUpOnceTheNextTryWouldBeMoreThanADayAfterItWasCreated()
    {
        var clock = new FakeTimeProvider();
        var created = clock.GetUtcNow();
        var attempts = 0;
        DateTimeOffset? next = created;
        while (next is { } at)
        {
            clock.SetUtcNow(at);
            attempts++;
            next = Default.Next(attempts, created, clock.GetUtcNow(), random: 0.5);
        }

        Assert.True(clock.GetUtcNow() - created <= TimeSpan.FromHours(24), $"last try {clock.GetUtcNow() - created} after creation");
        Assert.True(clock.GetUtcNow() - created > TimeSpan.FromHours(14), $"gave up early, after {clock.GetUtcNow() - created}");
        Assert.Equal(8, attempts);
    }

    [Fact]
    public void TheScheduleComesFromConfiguration()
    {
        var schedule = new WebhookOptions { RetryScheduleSeconds = "1, 2.5", MaxAgeHours = 1, Jitter = 0 }.Schedule;
        var now = new FakeTimeProvider().GetUtcNow();

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2.5)], schedule.Waits);
        Assert.Equal(TimeSpan.FromSeconds(2.5), schedule.Next(7, now, now, 0.3)!.Value - now);
        Assert.Null(schedule.Next(1, now - TimeSpan.FromHours(1), now, 0.3));
    }
}
