namespace AudioConverter.Bench;

/// <summary>
/// Scenario 2, the worker: a burst of uploads, timed from the first upload's start to the last task's processedAt,
/// then the same number of conversions by ffmpeg directly with the worker's parallelism. Every upload's bytes differ
/// (<see cref="DistinctMp3Content"/>), so the server's reuse of identical conversions does not apply and the burst
/// measures ffmpeg. The server's own metrics before and after give what its progress writes cost.
/// </summary>
internal static class WorkerScenario
{
    public static async Task<List<BurstResult>> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var results = new List<BurstResult>();
        foreach (var files in context.Options.Bursts)
        {
            results.Add(await RunBurstAsync(context, files, cancellationToken));
        }

        return results;
    }

    private static async Task<BurstResult> RunBurstAsync(BenchContext context, int files, CancellationToken cancellationToken)
    {
        var parallelism = context.Options.WorkerConcurrency;
        BenchContext.Say($"worker: burst of {files} uploads ({context.Options.BurstUploaders} uploaders), worker concurrency {parallelism}");
        var sessions = await Task.WhenAll(Enumerable.Range(0, Math.Min(4, files)).Select(_ => context.Client.NewUserAsync(null, cancellationToken)));
        var recorder = new Recorder(context.Clock);
        const string label = "upload (burst)";
        var metricsBefore = await context.Client.MetricsAsync(ProgressCost.Metrics, cancellationToken);
        var firstUploadUtc = DateTime.UtcNow;
        var start = context.Now;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, context.Options.BurstUploaders).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < files)
            {
                var session = sessions[i % sessions.Length];
                await recorder.TimeAsync(label, async () =>
                    (await context.Client.UploadAsync(session, DistinctMp3Content.Unique(context.Mp3), "signal.mp3", "wav", cancellationToken)).TaskId is not null);
            }
        }, cancellationToken)));
        var uploadPhase = context.Now - start;
        // The figures come from the tasks' own times (processedAt), so how often the bench looks changes none of them; a
        // poll a second (not the default 100 ms: 4 users' listings, 40 requests a second) keeps the bench's own requests
        // from taking the cores it measures. The time limit allows a loaded machine (a conversion of 10-20 s).
        var tasks = await context.Client.WaitForAllAsync(sessions, TimeSpan.FromSeconds(Math.Max(300, files * 20)), cancellationToken, TimeSpan.FromSeconds(1));
        var stop = context.Now;
        var resources = context.Monitor.Usage(start, stop);
        var lastProcessed = tasks.Max(t => t.ProcessedAt ?? t.CreatedAt);
        var workerSeconds = (lastProcessed - firstUploadUtc).TotalSeconds;
        var progress = ProgressCost.From(metricsBefore, await context.Client.MetricsAsync(ProgressCost.Metrics, cancellationToken));
        var notDeleted = await context.Client.DeleteAllAsync(sessions, TimeSpan.FromMinutes(2), cancellationToken);

        BenchContext.Say($"  worker: {files} in {workerSeconds:0.00} s; now ffmpeg alone, then ffprobe + ffmpeg, {parallelism} at a time, {FfmpegBaseline.WorkerPriority} as the worker's");
        var ffmpeg = await FfmpegBaseline.RunAsync(context.Mp3Path, context.Fixtures.Folder, files, parallelism, withProbe: false, cancellationToken);
        var probeAndFfmpeg = await FfmpegBaseline.RunAsync(context.Mp3Path, context.Fixtures.Folder, files, parallelism, withProbe: true, cancellationToken);

        Charts.Progress(context.Chart($"worker-burst-{files}.png"), $"Burst of {files}: files converted over time ({parallelism} at a time)",
        [
            ("worker (from first upload)", tasks.Where(t => t.ProcessedAt is not null).Select(t => (t.ProcessedAt!.Value - firstUploadUtc).TotalSeconds).ToList()),
            ("ffmpeg alone", ffmpeg.FinishedAt),
            ("ffprobe + ffmpeg", probeAndFfmpeg.FinishedAt),
        ]);

        double PerMinute(double seconds) => files / Math.Max(0.001, seconds) * 60;
        var result = new BurstResult(
            files, parallelism, workerSeconds, PerMinute(workerSeconds), ffmpeg.Seconds, PerMinute(ffmpeg.Seconds),
            probeAndFfmpeg.Seconds, PerMinute(probeAndFfmpeg.Seconds), ffmpeg.Seconds / workerSeconds, probeAndFfmpeg.Seconds / workerSeconds,
            uploadPhase,
            AggregateRow.From(label, recorder.Samples(label)),
            AggregateRow.From("task: created -> processed", WebScenario.Spans(tasks, t => t.CreatedAt, t => t.ProcessedAt)),
            AggregateRow.From("queue: created -> conversion start", WebScenario.Spans(tasks, t => t.CreatedAt, t => t.StartedAt)),
            AggregateRow.From("conversion: start -> processed", WebScenario.Spans(tasks, t => t.StartedAt, t => t.ProcessedAt)),
            tasks.Count(t => t.Status != "processed"), resources, notDeleted, progress, FfmpegBaseline.WorkerPriority);
        BenchContext.Say($"  worker {result.WorkerFilesPerMinute:0.0}/min, ffmpeg {result.FfmpegFilesPerMinute:0.0}/min, ratio {result.RatioToFfmpeg:0.000}");
        return result;
    }
}
