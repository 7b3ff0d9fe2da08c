using AudioConverter.Server.Auth;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Unit;

[Trait("Layer", "Unit")]
public sealed class AuthAttemptLimiterTests
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    private AuthAttemptLimiter Limiter(int failures, int logins) =>
        new(Options.Create(new RateLimitOptions { AuthPermitsPerMinute = failures, LoginsPerMinute = logins }), clock);

    [Fact]
    public void SuccessfulLoginsAreLimitedToo()
    {
        var limiter = Limiter(failures: 5, logins: 3);
        for (var i = 0; i < 3; i++)
        {
            limiter.Succeeded(Assert.IsType<AuthPermit>(limiter.TryAcquire("a", isLogin: true, out _)));
        }

        Assert.Null(limiter.TryAcquire("a", isLogin: true, out var wait));
        Assert.Equal(TimeSpan.FromMinutes(1), wait);

        // Signups have their own budget; another client is untouched.
        Assert.NotNull(limiter.TryAcquire("a", isLogin: false, out _));
        Assert.NotNull(limiter.TryAcquire("b", isLogin: true, out _));
    }

    [Fact]
    public void ASuccessfulLoginGivesItsFailurePermitBack()
    {
        var limiter = Limiter(failures: 2, logins: 100);
        for (var i = 0; i < 10; i++)
        {
            limiter.Succeeded(limiter.TryAcquire("a", isLogin: true, out _)!);
        }

        Assert.NotNull(limiter.TryAcquire("a", isLogin: true, out _));
        Assert.NotNull(limiter.TryAcquire("a", isLogin: true, out _));
        Assert.Null(limiter.TryAcquire("a", isLogin: true, out _));
    }

    [Fact]
    public void TheWindowEndsAfterAMinuteAndRetryAfterSaysWhen()
    {
        var limiter = Limiter(failures: 1, logins: 100);
        Assert.NotNull(limiter.TryAcquire("a", isLogin: true, out _));
        clock.Advance(TimeSpan.FromSeconds(45));
        Assert.Null(limiter.TryAcquire("a", isLogin: true, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(15), wait);
        clock.Advance(TimeSpan.FromSeconds(15));
        Assert.NotNull(limiter.TryAcquire("a", isLogin: true, out _));
    }

    [Fact]
    public void APermitOfAnEndedWindowGivesNothingBack()
    {
        var limiter = Limiter(failures: 1, logins: 100);
        var old = limiter.TryAcquire("a", isLogin: true, out _)!;
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.NotNull(limiter.TryAcquire("a", isLogin: true, out _));
        limiter.Succeeded(old);
        Assert.Null(limiter.TryAcquire("a", isLogin: true, out _));
    }

    [Fact]
    public async Task ConcurrentAttemptsNeverTakeMorePermitsThanTheWindowHolds()
    {
        // The old check-then-count let every attempt that checked before the first one counted through.
        var limiter = Limiter(failures: 10, logins: 1000);
        using var start = new ManualResetEventSlim();
        var granted = 0;
        var attempts = Enumerable.Range(0, 8).Select(n => Task.Run(() =>
        {
            start.Wait();
            for (var i = 0; i < 50; i++)
            {
                if (limiter.TryAcquire("a", isLogin: true, out _) is not null)
                {
                    Interlocked.Increment(ref granted);
                }
            }
        })).ToArray();
        start.Set();
        await Task.WhenAll(attempts);
        Assert.Equal(10, granted);
    }
}
