namespace AudioConverter.Bench;

internal sealed record MachineInfo(int Cores, string CpuModel, double MemoryGiB, string Os, string Runtime, string Ffmpeg);

internal sealed record WebLevelResult(
    int Users, double Seconds, AggregateRow Upload, AggregateRow Signup, AggregateRow Login, ResourceUsage? Resources,
    int ConvertedDuringLevel, int StillQueuedAtEnd, int NotDeleted);

internal sealed record LightResult(double Rate, AggregateRow Upload, AggregateRow QueueDelay, AggregateRow Conversion, ResourceUsage? Resources, int NotDeleted);

internal sealed record ListingResult(
    int Clients, int Users, int TasksPerUser, AggregateRow Listing, AggregateRow Empty, AggregateRow HealthLive, IReadOnlyList<AggregateRow> Steps,
    ResourceUsage? ListingResources, double ListingToEmpty, double ListingToHealthLive, int NotDeleted);

internal sealed record BurstResult(
    int Files, int Parallelism, double WorkerSeconds, double WorkerFilesPerMinute, double FfmpegSeconds, double FfmpegFilesPerMinute,
    double ProbeAndFfmpegSeconds, double ProbeAndFfmpegFilesPerMinute, double RatioToFfmpeg, double RatioToProbeAndFfmpeg,
    double UploadPhaseSeconds, AggregateRow Upload, AggregateRow TaskLatency, AggregateRow QueueDelay, AggregateRow Conversion,
    int Failed, ResourceUsage? Resources, int NotDeleted, ProgressCost? Progress = null, string Priority = "");

internal sealed record MemoryResult(int Clients, long FileBytes, double RssBeforeMb, double PeakRssMb, double HwmAfterMb, AggregateRow Upload, ResourceUsage? Resources, int NotDeleted);

internal sealed record UploadCostResult(
    int Clients, int Uploads, long BodyBytes,
    AggregateRow Bare, double BareCpuMsPerUpload, double BareCpuMsPerMb,
    AggregateRow Server, double ServerCpuMsPerUpload, double ServerCpuMsPerMb,
    double ServerToBare,
    AggregateRow Shared, int ConvertedDuringShared, double SharedToApiOnly, IReadOnlyList<UploadCostRound> Rounds, int NotDeleted);

/// <summary>One round of the upload-cost scenario: the bare endpoint, the API-only server, then the main server converting.</summary>
internal sealed record UploadCostRound(AggregateRow Bare, double BareCpuMs, AggregateRow Server, double ServerCpuMs, AggregateRow Shared, int Converted, ResourceUsage? SharedUsage)
{
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"server / bare CPU {ServerCpuMs / Math.Max(1, BareCpuMs):0.00} ({ServerCpuMs / Bare.Samples:0.00} against {BareCpuMs / Bare.Samples:0.00} ms an upload); uploads/s with the worker / API alone {Shared.PerSecond / Math.Max(1e-9, Server.PerSecond):0.00} ({Shared.PerSecond:0.0} against {Server.PerSecond:0.0}; API alone {ServerCpuMs / 10 / Math.Max(1e-9, Server.Samples / Server.PerSecond):0}% of one core; with the worker: server {SharedUsage?.ServerCpuPercent:0}%, its ffmpeg/ffprobe {SharedUsage?.ChildrenCpuPercent:0}%, {Converted} conversions finished)");
}

internal sealed record ListingScaleRow(int Rows, AggregateRow OldestFirst, AggregateRow NewestFirst);

internal sealed record ListingScaleResult(int Clients, IReadOnlyList<ListingScaleRow> Sizes, double LargestToSmallest);

internal sealed record SoakResult(int Clients, double Seconds, AggregateRow Upload, double FirstPeakRssMb, double LastPeakRssMb, ResourceUsage? Resources, int NotDeleted);

/// <summary>
/// Goal 6's cost of a hit: the same user's uploads one at a time, each after the previous one is processed (so the
/// worker is idle when it arrives): first distinct files (misses: converted), then the first one's bytes again (hits:
/// its output copied). The queue delay of the misses is the idle queue delay of goal 3.
/// </summary>
internal sealed record ReuseResult(
    int Files, AggregateRow MissQueueDelay, AggregateRow MissConversion, AggregateRow MissTotal,
    AggregateRow HitQueueDelay, AggregateRow HitConversion, AggregateRow HitTotal, int HitsReused, double HitToMiss, int NotDeleted);

/// <summary>
/// Issue 9's cost of normalisation: a burst of uploads asking for loudness normalisation, against the same two
/// loudnorm passes run by hand with the worker's parallelism (and one pass without loudnorm, for scale).
/// </summary>
internal sealed record NormalisationResult(
    int Files, int Parallelism, string Target, double Loudness, double WorkerSeconds, double ByHandSeconds, double PlainSeconds,
    double ByHandToWorker, double PlainToWorker, AggregateRow WorkerConversion, AggregateRow Upload, int Failed, ResourceUsage? Resources, int NotDeleted);

/// <summary>What the progress writes of a burst cost: their total DB time against the conversions' total time, from the server's metrics.</summary>
internal sealed record ProgressCost(double Writes, double WriteSeconds, double Conversions, double ConversionSeconds)
{
    public static readonly string[] Metrics =
    [
        "audioconverter_progress_write_duration_seconds_sum", "audioconverter_progress_write_duration_seconds_count",
        "audioconverter_conversion_duration_seconds_sum", "audioconverter_conversion_duration_seconds_count",
    ];

    public double Share => ConversionSeconds > 0 ? WriteSeconds / ConversionSeconds : 0;

    public static ProgressCost From(Dictionary<string, double> before, Dictionary<string, double> after)
    {
        double Diff(int i) => after[Metrics[i]] - before[Metrics[i]];
        return new ProgressCost(Diff(1), Diff(0), Diff(3), Diff(2));
    }

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"progress writes: {Writes:0} in {WriteSeconds * 1000:0.0} ms of DB time ({(Writes > 0 ? WriteSeconds / Writes * 1000 : 0):0.00} ms each) against {ConversionSeconds:0.00} s of conversion ({Conversions:0} conversions) = {Share * 100:0.000}% (goal: under 1%)");
}
