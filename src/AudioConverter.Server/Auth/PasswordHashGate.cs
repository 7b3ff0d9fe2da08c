namespace AudioConverter.Server.Auth;

/// <summary>
/// Bounds how many password-hash computations run at once (one per core): a flood of logins from many addresses
/// then queues here for a short wait and is refused with 503 beyond it, instead of taking every core from the rest.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A singleton that lives as long as the app; the semaphore's wait handle is never read, so it holds nothing to release.")]
public sealed class PasswordHashGate(TimeProvider clock, int slots)
{
    private readonly SemaphoreSlim semaphore = new(slots, slots);

    /// <summary>How long a request waits for a slot before it is refused.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);

    public PasswordHashGate(TimeProvider clock)
        : this(clock, Environment.ProcessorCount)
    {
    }

    /// <summary>Runs <paramref name="hash"/> in a slot; false, without running it, when no slot frees up within <see cref="MaxWait"/>.</summary>
    public async Task<(bool Entered, T Result)> RunAsync<T>(Func<T> hash, CancellationToken cancellationToken)
    {
        using var wait = new CancellationTokenSource(MaxWait, clock);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(wait.Token, cancellationToken);
        try
        {
            await semaphore.WaitAsync(either.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, default!);
        }

        try
        {
            return (true, hash());
        }
        finally
        {
            semaphore.Release();
        }
    }
}
