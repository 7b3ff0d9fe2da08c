using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AudioConverter.Bench;

/// <summary>Everything one run measured; written as report.json and report.txt.</summary>
internal sealed class BenchReport
{
    public required DateTime StartedAt { get; init; }
    public required string Command { get; init; }
    public required MachineInfo Machine { get; init; }
    public required string Server { get; init; }
    public required string Input { get; init; }
    public double LevelSeconds { get; init; }
    public UploadCostResult? UploadCost { get; set; }
    public LightResult? Light { get; set; }
    public List<WebLevelResult> Web { get; set; } = [];
    public ListingResult? Listing { get; set; }
    public ListingScaleResult? ListingScale { get; set; }
    public List<BurstResult> Worker { get; set; } = [];
    public ReuseResult? Reuse { get; set; }
    public NormalisationResult? Normalisation { get; set; }
    public MemoryResult? Memory { get; set; }
    public SoakResult? Soak { get; set; }
    public List<string> Problems { get; } = [];
    public List<string> LoadAverages { get; } = [];

    public async Task WriteAsync(string folder, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(this, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals });
        await File.WriteAllTextAsync(Path.Combine(folder, "report.json"), json, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, "report.txt"), ToText(), cancellationToken);
    }

    public string ToText()
    {
        var text = new StringBuilder();
        void Line(string line = "") => text.AppendLine(line);
        string Res(ResourceUsage? r) => r is null ? "server resources: not sampled (no pid)" : string.Create(CultureInfo.InvariantCulture,
            $"server peak RSS {r.PeakRssMb:0} MB (VmHWM {r.HwmMb:0} MB); server CPU {r.ServerCpuPercent:0}% of one core, its ffmpeg/ffprobe children {r.ChildrenCpuPercent:0}%; machine CPU {r.MachineCpuPercent:0}% of all cores");

        Line($"AudioConverter capacity run, {StartedAt:yyyy-MM-dd HH:mm:ss} UTC");
        Line($"command: {Command}");
        Line($"machine: {Machine.Cores} cores, {Machine.CpuModel}, {Machine.MemoryGiB:0.0} GiB; {Machine.Os}; {Machine.Runtime}; {Machine.Ffmpeg}");
        Line($"server: {Server}");
        Line($"input: {Input}");
        Line($"load level duration: {LevelSeconds} s");
        Line($"machine load average (/proc/loadavg) {string.Join("; ", LoadAverages)}");
        Line();
        if (UploadCost is { } cost)
        {
            Line($"== Upload cost: {cost.Uploads} uploads of a {cost.BodyBytes / 1e6:0.00} MB multipart body by {cost.Clients} clients, each side in a process of its own, {cost.Rounds.Count} rounds; the rows are the median round's ==");
            foreach (var (round, i) in cost.Rounds.Select((r, i) => (r, i)))
            {
                Line($"round {i + 1}: {round}");
            }

            Line(AggregateRow.Header);
            Line(cost.Bare.ToString());
            Line(cost.Server.ToString());
            Line(string.Create(CultureInfo.InvariantCulture, $"CPU per upload: bare {cost.BareCpuMsPerUpload:0.00} ms ({cost.BareCpuMsPerMb:0.00} ms/MB); server {cost.ServerCpuMsPerUpload:0.00} ms ({cost.ServerCpuMsPerMb:0.00} ms/MB)"));
            Line(string.Create(CultureInfo.InvariantCulture, $"server / bare CPU per MB = {cost.ServerToBare:0.00} (goal: at most 1.5)"));
            Line(cost.Shared.ToString());
            Line(string.Create(CultureInfo.InvariantCulture, $"uploads with the worker converting (main server, API and worker) / API role alone = {cost.SharedToApiOnly:0.00} (goal: at least 0.9); the worker finished {cost.ConvertedDuringShared} conversions during those uploads"));
            Line();
        }

        if (Light is not null)
        {
            Line("== Scenario 1, light load: one upload a second (workers idle) ==");
            Line(AggregateRow.Header);
            Line(Light.Upload.ToString());
            Line(Light.QueueDelay.ToString());
            Line(Light.Conversion.ToString());
            Line(Res(Light.Resources));
            Line();
        }

        if (Web.Count > 0)
        {
            Line("== Scenario 1, web layer: closed-loop uploads (2.9 MB MP3 -> WAV), worker converting at the same time ==");
            Line(AggregateRow.Header);
            foreach (var level in Web)
            {
                Line(level.Upload.ToString());
            }

            foreach (var level in Web)
            {
                Line($"{level.Users} users: {Res(level.Resources)}");
                Line($"  worker finished {level.ConvertedDuringLevel} conversions during the level; {level.StillQueuedAtEnd} still queued (deleted unconverted)");
                Line($"  {level.Signup}");
                Line($"  {level.Login}");
            }

            Line();
        }

        if (Listing is not null)
        {
            Line($"== Scenario 1, listing: {Listing.Clients} concurrent clients, {Listing.Users} users with {Listing.TasksPerUser} tasks each ==");
            Line(AggregateRow.Header);
            Line(Listing.Empty.ToString());
            Line(Listing.HealthLive.ToString());
            foreach (var step in Listing.Steps)
            {
                Line(step.ToString());
            }

            Line(Listing.Listing.ToString());
            Line(string.Create(CultureInfo.InvariantCulture, $"listing / empty endpoint = {Listing.ListingToEmpty:0.000}; listing / server's /health/live = {Listing.ListingToHealthLive:0.000}"));
            Line($"during listing: {Res(Listing.ListingResources)}");
            Line();
        }

        if (ListingScale is { } scale)
        {
            Line($"== Listing by rows per user: first page of 10, {scale.Clients} clients, rows seeded into SQLite ==");
            Line(AggregateRow.Header);
            foreach (var size in scale.Sizes)
            {
                Line(size.OldestFirst.ToString());
                Line(size.NewestFirst.ToString());
            }

            Line(string.Create(CultureInfo.InvariantCulture, $"slowest rate at {scale.Sizes[^1].Rows} rows / fastest at {scale.Sizes[0].Rows} rows = {scale.LargestToSmallest:0.00} (flat: near 1)"));
            Line();
        }

        foreach (var burst in Worker)
        {
            Line($"== Scenario 2, worker: burst of {burst.Files}, {burst.Parallelism} conversions at a time, ffmpeg {burst.Priority} (worker and baseline) ==");
            Line(string.Create(CultureInfo.InvariantCulture,
                $"worker: {burst.WorkerSeconds:0.00} s from the first upload to the last processed = {burst.WorkerFilesPerMinute:0.0} files/min (uploads took {burst.UploadPhaseSeconds:0.00} s; {burst.Failed} not processed)"));
            Line(string.Create(CultureInfo.InvariantCulture, $"ffmpeg alone, same arguments: {burst.FfmpegSeconds:0.00} s = {burst.FfmpegFilesPerMinute:0.0} files/min"));
            Line(string.Create(CultureInfo.InvariantCulture, $"ffprobe + ffmpeg (the worker's tools before it dropped the separate probe): {burst.ProbeAndFfmpegSeconds:0.00} s = {burst.ProbeAndFfmpegFilesPerMinute:0.0} files/min"));
            Line(string.Create(CultureInfo.InvariantCulture, $"ratio worker / ffmpeg alone = {burst.RatioToFfmpeg:0.000}; worker / (ffprobe + ffmpeg) = {burst.RatioToProbeAndFfmpeg:0.000}"));
            Line(AggregateRow.Header);
            Line(burst.Upload.ToString());
            Line(burst.TaskLatency.ToString());
            Line(burst.QueueDelay.ToString());
            Line(burst.Conversion.ToString());
            Line(Res(burst.Resources));
            if (burst.Progress is { } progress)
            {
                Line(progress.ToString());
            }

            Line();
        }

        if (Reuse is { } reuse)
        {
            Line($"== Work not done twice: {reuse.Files} distinct uploads (misses), then {reuse.Files} repeats of the first (hits), one at a time, each after the previous was processed ==");
            Line(AggregateRow.Header);
            foreach (var row in new[] { reuse.MissQueueDelay, reuse.MissConversion, reuse.MissTotal, reuse.HitQueueDelay, reuse.HitConversion, reuse.HitTotal })
            {
                Line(row.ToString());
            }

            Line(string.Create(CultureInfo.InvariantCulture, $"hits that reused the first output: {reuse.HitsReused} of {reuse.Files}; hit / miss, median claim -> processed = {reuse.HitToMiss:0.000}"));
            Line(string.Create(CultureInfo.InvariantCulture, $"idle queue delay (misses, created -> conversion start): median {reuse.MissQueueDelay.MedianMs:0.0} ms, p95 {reuse.MissQueueDelay.P95Ms:0.0} ms (goal: under 50 ms)"));
            Line();
        }

        if (Normalisation is { } norm)
        {
            Line($"== Normalisation: burst of {norm.Files} MP3 -> {norm.Target} with loudness={norm.Loudness}, {norm.Parallelism} at a time ==");
            Line(string.Create(CultureInfo.InvariantCulture, $"worker: {norm.WorkerSeconds:0.00} s from the first upload to the last processed ({norm.Failed} not processed)"));
            Line(string.Create(CultureInfo.InvariantCulture, $"the two loudnorm passes by hand: {norm.ByHandSeconds:0.00} s; the encode alone, no loudnorm: {norm.PlainSeconds:0.00} s"));
            Line(string.Create(CultureInfo.InvariantCulture, $"ratio by hand / worker = {norm.ByHandToWorker:0.000} (1 = the converter costs what the two passes cost); encode alone / worker = {norm.PlainToWorker:0.000}"));
            Line(AggregateRow.Header);
            Line(norm.Upload.ToString());
            Line(norm.WorkerConversion.ToString());
            Line(Res(norm.Resources));
            Line();
        }

        if (Memory is not null)
        {
            Line($"== Memory: {Memory.Clients} clients each uploading a {Memory.FileBytes / (1024 * 1024)} MB WAV at once ==");
            Line(string.Create(CultureInfo.InvariantCulture, $"server RSS before {Memory.RssBeforeMb:0} MB; peak during {Memory.PeakRssMb:0} MB; VmHWM after {Memory.HwmAfterMb:0} MB (lifetime peak)"));
            Line(AggregateRow.Header);
            Line(Memory.Upload.ToString());
            Line(Res(Memory.Resources));
            Line();
        }

        if (Soak is { } soak)
        {
            Line($"== Soak: {soak.Clients} clients uploading and deleting for {soak.Seconds:0} s ==");
            Line(AggregateRow.Header);
            Line(soak.Upload.ToString());
            Line(string.Create(CultureInfo.InvariantCulture, $"server peak RSS in the first window {soak.FirstPeakRssMb:0} MB, in the last {soak.LastPeakRssMb:0} MB (growth {soak.LastPeakRssMb - soak.FirstPeakRssMb:+0;-0;0} MB)"));
            Line(Res(soak.Resources));
            Line();
        }

        Line(Problems.Count == 0 ? "No problems: every request succeeded and every task made was deleted." : "PROBLEMS:\n  " + string.Join("\n  ", Problems));
        return text.ToString();
    }
}
