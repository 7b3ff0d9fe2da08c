using AudioConverter.Server.Auth;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Unit;

public sealed class PasswordHashGateTests
{
    [Fact]
    public async Task HashesBeyondTheSlotsWaitThenAreRefusedAfterTheShortWait()
    {
        var clock = new FakeTimeProvider();
        var gate = new PasswordHashGate(clock, slots: 1);
        using var release = new ManualResetEventSlim();
        using var inside = new ManualResetEventSlim();
        var first = Task.Run(() => gate.RunAsync(() =>
        {
            inside.Set();
            release.Wait();
            return 1;
        }, default));
        inside.Wait();

        var second = gate.RunAsync(() => 2, default);
        Assert.False(second.IsCompleted);
        clock.Advance(PasswordHashGate.MaxWait);
        Assert.Equal((false, 0), await second);

        // Within the wait, a slot that frees up is taken.
        var third = gate.RunAsync(() => 3, default);
        release.Set();
        Assert.Equal((true, 1), await first);
        Assert.Equal((true, 3), await third);
    }

    [Fact]
    public async Task NoMoreHashesRunAtOnceThanThereAreSlots()
    {
        var gate = new PasswordHashGate(TimeProvider.System, slots: 2);
        var running = 0;
        var most = 0;
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(() => gate.RunAsync(() =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            Thread.Sleep(20);
            Interlocked.Decrement(ref running);
            return true;
        }, default))));
        Assert.All(results, r => Assert.True(r.Entered));
        Assert.Equal(2, most);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
