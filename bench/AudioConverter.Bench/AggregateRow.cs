using HdrHistogram;

namespace AudioConverter.Bench;

/// <summary>One line of JMeter's aggregate report. Latencies in milliseconds; throughput over the span from the first start to the last end.</summary>
internal sealed record AggregateRow(
    string Label,
    long Samples,
    double AverageMs,
    double MedianMs,
    double P90Ms,
    double P95Ms,
    double P99Ms,
    double MinMs,
    double MaxMs,
    double ErrorPercent,
    double PerSecond,
    double PerMinute)
{
    public static AggregateRow From(string label, IReadOnlyList<Sample> samples, double? spanSeconds = null)
    {
        if (samples.Count == 0)
        {
            return new AggregateRow(label, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        }

        // Microseconds, up to 10 minutes, 3 significant digits.
        var histogram = new LongHistogram(600_000_000, 3);
        foreach (var sample in samples)
        {
            histogram.RecordValue(Math.Max(1, (long)(sample.LatencyMs * 1000)));
        }

        var span = spanSeconds ?? Math.Max(0.001, samples.Max(s => s.EndSeconds) - samples.Min(s => s.StartSeconds));
        double Ms(double percentile) => histogram.GetValueAtPercentile(percentile) / 1000.0;
        return new AggregateRow(
            label,
            samples.Count,
            samples.Average(s => s.LatencyMs),
            Ms(50),
            Ms(90),
            Ms(95),
            Ms(99),
            samples.Min(s => s.LatencyMs),
            samples.Max(s => s.LatencyMs),
            100.0 * samples.Count(s => !s.Ok) / samples.Count,
            samples.Count / span,
            samples.Count / span * 60);
    }

    public static string Header => $"{"label",-40} {"samples",8} {"avg ms",9} {"median",9} {"p90",9} {"p95",9} {"p99",9} {"max",9} {"error %",8} {"per s",9} {"per min",9}";

    public override string ToString() =>
        $"{Label,-40} {Samples,8} {AverageMs,9:0.0} {MedianMs,9:0.0} {P90Ms,9:0.0} {P95Ms,9:0.0} {P99Ms,9:0.0} {MaxMs,9:0.0} {ErrorPercent,8:0.00} {PerSecond,9:0.0} {PerMinute,9:0}";
}
