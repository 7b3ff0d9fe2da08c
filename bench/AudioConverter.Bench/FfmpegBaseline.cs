using System.Diagnostics;
using System.Globalization;

namespace AudioConverter.Bench;

/// <summary>
/// The same conversions run by ffmpeg directly, with the worker's arguments (copied from
/// src/AudioConverter.Infrastructure/Media/FfmpegMediaConverter.cs and Core/Tasks/AudioFormat.cs, the WAV entry)
/// and the worker's parallelism. Outputs are kept until the run ends, as the worker's are kept in its store, so
/// both pay the same disk. Optionally with an ffprobe call before each, as the worker did before it let ffmpeg
/// read the input itself: that row shows what the separate probe cost. The baseline runs at the worker's CPU priority
/// (<see cref="WorkerPriority"/>): on a busy machine a lowered worker against a normal baseline would measure the
/// priority, not the worker.
/// </summary>
internal static class FfmpegBaseline
{
    private const string AllowedDemuxers =
        "mp3,wav,w64,ogg,flac,mov,mp4,m4a,3gp,3g2,mj2,aac,asf,aiff,caf,matroska,webm,amr,amrnb,amrwb,au,ape,wv,tta,mpc,mpc8,avi,ac3,eac3,dts,truehd,mlp,mpeg,mpegts,voc,sox,wsaud,xa,xwma,dsf,iff,mp2,s16le,s8,u8,alaw,mulaw";

    /// <summary>
    /// The `nice` increment the bench's server gives its ffmpeg when the idle policy is off: Media__Niceness when the
    /// bench's environment (which the server inherits) sets it, otherwise 10.
    /// </summary>
    public static int WorkerNiceness =>
        int.TryParse(Environment.GetEnvironmentVariable("Media__Niceness"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : 10;

    /// <summary>
    /// Whether the bench's server runs its ffmpeg under the idle scheduling policy (`chrt --idle 0`): its default with
    /// API and worker in one process, unless the environment sets Media__IdlePriority=false.
    /// </summary>
    public static bool WorkerIdle => !string.Equals(Environment.GetEnvironmentVariable("Media__IdlePriority"), "false", StringComparison.OrdinalIgnoreCase);

    /// <summary>The worker's CPU priority in words, for the report.</summary>
    public static string WorkerPriority => WorkerIdle ? "under the idle policy" : $"at nice {WorkerNiceness}";

    private static string[] PriorityPrefix =>
        WorkerIdle ? ["chrt", "--idle", "0"] : WorkerNiceness > 0 ? ["nice", "-n", WorkerNiceness.ToString(CultureInfo.InvariantCulture)] : [];

    /// <summary>Returns the wall time of all conversions and each one's finishing instant (seconds from the start).</summary>
    public static async Task<(double Seconds, List<double> FinishedAt)> RunAsync(string input, string workFolder, int files, int parallelism, bool withProbe, CancellationToken cancellationToken)
    {
        var finished = new List<double>();
        var gate = new Lock();
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, files), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            if (withProbe)
            {
                await RunAsync("ffprobe",
                [
                    "-v", "error", "-hide_banner", "-protocol_whitelist", "file", "-format_whitelist", AllowedDemuxers,
                    "-show_entries", "format=format_name,duration:stream=codec_type,codec_name,duration", "-of", "json", "-i", "file:" + input,
                ], ct);
            }

            var output = Path.Combine(workFolder, $"baseline-{i}.wav");
            await RunAsync("ffmpeg",
            [
                "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info", "-y", "-progress", "pipe:1",
                "-protocol_whitelist", "file", "-format_whitelist", AllowedDemuxers,
                "-i", "file:" + input,
                "-map", "0:a:0", "-vn", "-sn", "-dn",
                "-t", "10800", "-threads", "1",
                "-c:a", "pcm_s16le",
                "-fs", (4L * 1024 * 1024 * 1024).ToString(CultureInfo.InvariantCulture), "-f", "wav", "file:" + output,
            ], ct);
            lock (gate)
            {
                finished.Add(watch.Elapsed.TotalSeconds);
            }
        });
        var seconds = watch.Elapsed.TotalSeconds;
        for (var i = 0; i < files; i++)
        {
            File.Delete(Path.Combine(workFolder, $"baseline-{i}.wav"));
        }

        return (seconds, finished);
    }

    private static async Task RunAsync(string tool, string[] arguments, CancellationToken cancellationToken)
    {
        string[] command = [.. PriorityPrefix, tool, .. arguments];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} failed ({process.ExitCode}): {await stderr}");
        }
    }
}
