namespace AudioConverter.Core.Tasks;

/// <summary>
/// The give-up rules of a task's life, used by the worker (a failed attempt) and by the sweeper (a lease that expired
/// because the worker died). Two budgets: <see cref="MaxAttempts"/> claims that ended without an outcome (a file that
/// kills the worker must not loop forever), and <see cref="RetryFor"/> of waiting after failures that were the
/// system's (an outage shorter than that loses nothing, however many attempts it spoils).
/// </summary>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan BaseDelay, TimeSpan MaxDelay, TimeSpan RetryFor)
{
    /// <summary>
    /// After the system's failure number <paramref name="retries"/> of this version (1 for the first): give up, or
    /// retry no earlier than the returned time. It gives up when the waits so far and the next one would pass
    /// <see cref="RetryFor"/>.
    /// </summary>
    public RetryDecision Decide(int retries, DateTime now)
    {
        if (TotalWait(retries) > RetryFor)
        {
            return new RetryDecision(GiveUp: true, RetryAt: null);
        }

        return new RetryDecision(GiveUp: false, RetryAt: now + DelayAfter(retries));
    }

    /// <summary>Whether one more claim is allowed after <paramref name="attempts"/> claims that ended without an outcome.</summary>
    public bool MayClaim(int attempts) => attempts < MaxAttempts;

    /// <summary>Base × 2^(retries-1), capped: 2 s, 4 s, 8 s... by default.</summary>
    public TimeSpan DelayAfter(int retries)
    {
        var exponent = Math.Clamp(retries - 1, 0, 30);
        var ticks = BaseDelay.Ticks * Math.Pow(2, exponent);
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The waits after the first <paramref name="retries"/> failures, added up.</summary>
    public TimeSpan TotalWait(int retries)
    {
        var total = TimeSpan.Zero;
        for (var failure = 1; failure <= retries && total <= RetryFor; failure++)
        {
            total += DelayAfter(failure);
        }

        return total;
    }
}

/// <summary>What to do after a transient failure.</summary>
public readonly record struct RetryDecision(bool GiveUp, DateTime? RetryAt);
