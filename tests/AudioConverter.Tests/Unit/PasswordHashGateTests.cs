using AudioConverter.Server.Auth;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Unit;

[Trait("Layer", "Unit")]
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
        // The fake clock never moves, so no hash times out however slow the machine is; each hash holds its slot
        // until released, so the count inside is decided by the gate alone, not by how fast threads happen to run.
        var gate = new PasswordHashGate(new FakeTimeProvider(), slots: 2);
        using var release = new ManualResetEventSlim();
        var running = 0;
        var most = 0;
        using var entered = new SemaphoreSlim(0);
        var hashes = Enumerable.Range(0, 3).Select(_ => Task.Run(() => gate.RunAsync(() =>
        {
            InterlockedMax(ref most, Interlocked.Increment(ref running));
            entered.Release();
            release.Wait();
            Interlocked.Decrement(ref running);
            return true;
        }, default))).ToList();

        Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)), "the first hash never started");
        Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)), "the second hash never started");

        // A third slot, if the gate had one, would be taken at once; half a second is ample on any machine.
        Assert.False(await entered.WaitAsync(TimeSpan.FromMilliseconds(500)), "a third hash ran while two held the slots");
        Assert.Equal(2, Volatile.Read(ref running));

        release.Set();
        var results = await Task.WhenAll(hashes);
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
