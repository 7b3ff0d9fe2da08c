namespace AudioConverter.Core.Tasks;

/// <summary>
/// When a transient failure is tried again, and when it becomes final: the one give-up rule of a task's life,
/// used by the worker (a failed attempt) and by the sweeper (a lease that expired because the worker died).
/// </summary>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    /// <summary>After <paramref name="attempts"/> claims of this version: give up, or retry no earlier than the returned time.</summary>
    public RetryDecision Decide(int attempts, DateTime now)
    {
        if (attempts >= MaxAttempts)
        {
            return new RetryDecision(GiveUp: true, RetryAt: null);
        }

        return new RetryDecision(GiveUp: false, RetryAt: now + DelayAfter(attempts));
    }

    /// <summary>Whether one more claim is allowed after <paramref name="attempts"/> claims.</summary>
    public bool MayClaim(int attempts) => attempts < MaxAttempts;

    /// <summary>Base × 2^(attempts-1), capped: 2 s, 4 s, 8 s... by default.</summary>
    public TimeSpan DelayAfter(int attempts)
    {
        var exponent = Math.Clamp(attempts - 1, 0, 30);
        var ticks = BaseDelay.Ticks * Math.Pow(2, exponent);
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>What to do after a transient failure.</summary>
public readonly record struct RetryDecision(bool GiveUp, DateTime? RetryAt);
