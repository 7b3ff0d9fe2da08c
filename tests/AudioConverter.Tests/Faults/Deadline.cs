using System.Diagnostics;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// The one way tests wait: poll a condition until it holds or the deadline passes, never a fixed sleep.
/// The deadline is measured on the monotonic clock (Stopwatch), so a wall-clock jump neither ends nor stretches a wait.
/// </summary>
public static class Deadline
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        await UntilAsync(condition, done => done, timeout, _ => what);

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) => UntilAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>
    /// Polls <paramref name="probe"/> until <paramref name="done"/> holds for its answer, and returns that answer.
    /// On time-out the message is built from the last answer, so it says how far things got.
    /// </summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, Func<T, string> what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var answer = await probe();
            if (done(answer))
            {
                return answer;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Still waiting after {timeout.TotalSeconds:0.#} s for: {what(answer)}");
            }

            await Task.Delay(Interval);
        }
    }

    /// <summary>
    /// All files under a folder that must exist: for "nothing is left" checks, which would pass for a mistyped or
    /// never-created folder if a missing folder counted as empty.
    /// </summary>
    public static string[] FilesLeftIn(string folder) =>
        Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            : throw new DirectoryNotFoundException($"{folder} does not exist, so an empty-folder check there would prove nothing.");

    /// <summary>All files under a folder (none when it does not exist): for waiting until files appear.</summary>
    public static string[] FilesUnder(string folder) =>
        Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories) : [];
}
