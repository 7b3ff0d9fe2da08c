using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AudioConverter.Bench;

/// <summary>
/// Issue 9's cost of normalisation: a burst of <c>--loudness-files</c> uploads of the MP3 (distinct bytes each) to MP3
/// with <c>loudness=-16</c>, timed from the first upload to the last processed, against the same two loudnorm passes
/// run by hand (a measuring pass, then the pass that applies the measurements and encodes, as in bench/media-paths.sh
/// and FfmpegArguments.cs) with the worker's parallelism; and the encode alone, without loudnorm, for scale.
/// </summary>
internal static class NormalisationScenario
{
    private const string Target = "mp3";
    private const double Loudness = -16;

    public static async Task<NormalisationResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var files = context.Options.LoudnessFiles;
        var parallelism = context.Options.WorkerConcurrency;
        BenchContext.Say($"loudness: burst of {files} uploads to {Target} with loudness={Loudness}, then the two passes by hand, {parallelism} at a time");
        var session = await context.Client.NewUserAsync(null, cancellationToken);
        var recorder = new Recorder(context.Clock);
        const string label = "upload (loudness burst)";
        var firstUploadUtc = DateTime.UtcNow;
        var start = context.Now;
        var loudness = Loudness.ToString(CultureInfo.InvariantCulture);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Math.Min(files, context.Options.BurstUploaders)).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < files)
            {
                await recorder.TimeAsync(label, async () =>
                    (await context.Client.UploadAsync(session, DistinctMp3Content.Unique(context.Mp3), "signal.mp3", Target, [("loudness", loudness)], cancellationToken)).TaskId is not null);
            }
        }, cancellationToken)));
        var tasks = await context.Client.WaitForAllAsync([session], TimeSpan.FromSeconds(Math.Max(300, files * 60)), cancellationToken);
        var stop = context.Now;
        var workerSeconds = (tasks.Max(t => t.ProcessedAt ?? t.CreatedAt) - firstUploadUtc).TotalSeconds;
        var notDeleted = await context.Client.DeleteAllAsync([session], TimeSpan.FromMinutes(2), cancellationToken);

        BenchContext.Say($"  worker: {files} in {workerSeconds:0.00} s; now the two passes by hand, then the encode alone");
        var byHand = await ByHandAsync(context, files, parallelism, normalise: true, cancellationToken);
        var plain = await ByHandAsync(context, files, parallelism, normalise: false, cancellationToken);
        var result = new NormalisationResult(
            files, parallelism, Target, Loudness, workerSeconds, byHand, plain, byHand / workerSeconds, plain / workerSeconds,
            AggregateRow.From("conversion: start -> processed", WebScenario.Spans(tasks, t => t.StartedAt, t => t.ProcessedAt)),
            AggregateRow.From(label, recorder.Samples(label)),
            tasks.Count(t => t.Status != "processed"), context.Monitor.Usage(start, stop), notDeleted);
        BenchContext.Say($"  by hand / worker = {result.ByHandToWorker:0.000}; encode alone / worker = {result.PlainToWorker:0.000}");
        return result;
    }

    private static async Task<double> ByHandAsync(BenchContext context, int files, int parallelism, bool normalise, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var input = "file:" + context.Mp3Path;
        string[] common = ["-nostdin", "-hide_banner", "-nostats", "-y", "-threads", "1"];
        await Parallel.ForEachAsync(Enumerable.Range(0, files), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var output = Path.Combine(context.Fixtures.Folder, $"loudness-{i}.mp3");
            var filter = new List<string>();
            if (normalise)
            {
                var measured = await FfmpegAsync([.. common, "-i", input, "-af", $"loudnorm=I={Loudness}:TP=-1.5:LRA=7:print_format=json", "-f", "null", "-"], ct);
                string Value(string name) => Regex.Match(measured, $"\"{name}\"\\s*:\\s*\"([-0-9.]+)\"").Groups[1].Value;
                filter.AddRange(["-af", $"loudnorm=I={Loudness}:TP=-1.5:LRA=7:measured_I={Value("input_i")}:measured_TP={Value("input_tp")}:measured_LRA={Value("input_lra")}:measured_thresh={Value("input_thresh")}:offset={Value("target_offset")}:linear=true"]);
            }

            await FfmpegAsync([.. common, "-i", input, .. filter, "-ar", "44100", "-c:a", "libmp3lame", "-q:a", "2", output], ct);
            File.Delete(output);
        });
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Runs ffmpeg and returns its stderr (loudnorm prints its measurements there).</summary>
    private static async Task<string> FfmpegAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        await stdout;
        var text = await stderr;
        return process.ExitCode == 0 ? text : throw new InvalidOperationException($"ffmpeg failed ({process.ExitCode}): {text[^Math.Min(400, text.Length)..]}");
    }
}
