namespace AudioConverter.Bench;

/// <summary>One request: when it started (seconds on the bench clock), how long it took, whether it succeeded.</summary>
internal readonly record struct Sample(string Label, double StartSeconds, double LatencyMs, bool Ok)
{
    public double EndSeconds => StartSeconds + LatencyMs / 1000;
}
