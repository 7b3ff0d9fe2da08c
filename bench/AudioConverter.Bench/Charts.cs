using ScottPlot;

namespace AudioConverter.Bench;

/// <summary>PNG charts of a run: latency and throughput over time, worker progress, server memory.</summary>
internal static class Charts
{
    private const int Width = 1000;
    private const int Height = 450;

    /// <summary>Each request as a dot: when it started (seconds into its level) against its latency.</summary>
    public static void LatencyOverTime(string path, string title, IEnumerable<(string Name, IReadOnlyList<Sample> Samples)> series)
    {
        var plot = new Plot();
        foreach (var (name, samples) in series)
        {
            if (samples.Count == 0)
            {
                continue;
            }

            var origin = samples.Min(s => s.StartSeconds);
            var scatter = plot.Add.Scatter(samples.Select(s => s.StartSeconds - origin).ToArray(), samples.Select(s => s.LatencyMs).ToArray());
            scatter.LineWidth = 0;
            scatter.MarkerSize = 3;
            scatter.LegendText = name;
        }

        Save(plot, path, title, "seconds into the level", "latency (ms)");
    }

    /// <summary>Requests completed in each second of the level.</summary>
    public static void ThroughputOverTime(string path, string title, IEnumerable<(string Name, IReadOnlyList<Sample> Samples)> series)
    {
        var plot = new Plot();
        foreach (var (name, samples) in series)
        {
            if (samples.Count == 0)
            {
                continue;
            }

            var origin = samples.Min(s => s.StartSeconds);
            var seconds = (int)Math.Ceiling(samples.Max(s => s.EndSeconds) - origin);
            var counts = new double[Math.Max(1, seconds)];
            foreach (var sample in samples.Where(s => s.Ok))
            {
                counts[Math.Min(counts.Length - 1, (int)(sample.EndSeconds - origin))]++;
            }

            var line = plot.Add.Scatter(Enumerable.Range(0, counts.Length).Select(i => i + 0.5).ToArray(), counts);
            line.MarkerSize = 4;
            line.LegendText = name;
        }

        Save(plot, path, title, "seconds into the level", "completed requests per second");
    }

    /// <summary>How many files were done by each instant, for the worker and for ffmpeg alone.</summary>
    public static void Progress(string path, string title, IEnumerable<(string Name, IReadOnlyList<double> FinishedAtSeconds)> series)
    {
        var plot = new Plot();
        foreach (var (name, finished) in series)
        {
            var sorted = finished.Order().ToArray();
            if (sorted.Length == 0)
            {
                continue;
            }

            var line = plot.Add.Scatter(sorted.Prepend(0).ToArray(), Enumerable.Range(0, sorted.Length + 1).Select(i => (double)i).ToArray());
            line.MarkerSize = 0;
            line.LegendText = name;
        }

        Save(plot, path, title, "seconds since the first upload (worker) or first ffmpeg start", "files converted");
    }

    public static void Memory(string path, string title, IReadOnlyList<ProcessSample> samples)
    {
        var plot = new Plot();
        if (samples.Count > 0)
        {
            var origin = samples[0].Seconds;
            var line = plot.Add.Scatter(samples.Select(s => s.Seconds - origin).ToArray(), samples.Select(s => s.RssKb / 1024.0).ToArray());
            line.MarkerSize = 2;
            line.LegendText = "server VmRSS";
        }

        Save(plot, path, title, "seconds", "resident memory (MB)");
    }

    private static void Save(Plot plot, string path, string title, string x, string y)
    {
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }
}
