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
    int Failed, ResourceUsage? Resources, int NotDeleted);

internal sealed record MemoryResult(int Clients, long FileBytes, double RssBeforeMb, double PeakRssMb, double HwmAfterMb, AggregateRow Upload, ResourceUsage? Resources, int NotDeleted);

internal sealed record UploadCostResult(
    int Clients, int Uploads, long BodyBytes,
    AggregateRow Bare, double BareCpuMsPerUpload, double BareCpuMsPerMb,
    AggregateRow Server, double ServerCpuMsPerUpload, double ServerCpuMsPerMb,
    double ServerToBare, int NotDeleted);

internal sealed record ListingScaleRow(int Rows, AggregateRow OldestFirst, AggregateRow NewestFirst);

internal sealed record ListingScaleResult(int Clients, IReadOnlyList<ListingScaleRow> Sizes, double LargestToSmallest);

internal sealed record SoakResult(int Clients, double Seconds, AggregateRow Upload, double FirstPeakRssMb, double LastPeakRssMb, ResourceUsage? Resources, int NotDeleted);
