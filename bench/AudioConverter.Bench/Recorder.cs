using System.Collections.Concurrent;
using System.Diagnostics;

namespace AudioConverter.Bench;

/// <summary>Collects samples from many concurrent clients against one shared clock.</summary>
internal sealed class Recorder(Stopwatch clock)
{
    private readonly ConcurrentQueue<Sample> samples = new();

    public double Now => clock.Elapsed.TotalSeconds;

    public void Add(string label, double startSeconds, double latencyMs, bool ok) => samples.Enqueue(new Sample(label, startSeconds, latencyMs, ok));

    public IReadOnlyList<Sample> Samples(string label) => [.. samples.Where(s => s.Label == label).OrderBy(s => s.StartSeconds)];

    /// <summary>Times one request and records it; exceptions count as errors and are not rethrown.</summary>
    public async Task<bool> TimeAsync(string label, Func<Task<bool>> request)
    {
        var started = Now;
        var watch = Stopwatch.StartNew();
        bool ok;
        try
        {
            ok = await request();
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or InvalidOperationException)
        {
            ok = false;
        }

        Add(label, started, watch.Elapsed.TotalMilliseconds, ok);
        return ok;
    }
}
