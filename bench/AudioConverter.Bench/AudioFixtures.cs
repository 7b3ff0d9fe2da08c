using System.Diagnostics;
using System.Globalization;

namespace AudioConverter.Bench;

/// <summary>Makes the bench's input files with ffmpeg from a non-trivial synthetic signal, in a temp folder of its own.</summary>
internal sealed class AudioFixtures : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("audioconverter-bench-input-").FullName;

    public string Folder => folder;

    /// <summary>Mixed sines and pink noise with a tremolo, 44.1 kHz stereo, 128 kbps MP3.</summary>
    public async Task<string> Mp3Async(double seconds, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, $"signal-{seconds:0}s.mp3");
        var d = seconds.ToString(CultureInfo.InvariantCulture);
        await RunFfmpegAsync(
        [
            "-filter_complex",
            $"aevalsrc=exprs='0.25*sin(2*PI*220*t)+0.15*sin(2*PI*331*t)+0.1*sin(2*PI*1870*t)|0.25*sin(2*PI*277*t)+0.15*sin(2*PI*415*t)+0.1*sin(2*PI*2490*t)':s=44100:d={d}[s];"
                + $"anoisesrc=color=pink:amplitude=0.2:sample_rate=44100:duration={d},pan=stereo|c0=c0|c1=c0[n];"
                + "[s][n]amix=inputs=2:normalize=0,tremolo=f=4:d=0.6[out]",
            "-map", "[out]", "-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100", "-ac", "2", path,
        ], cancellationToken);
        return path;
    }

    /// <summary>A 16-bit 44.1 kHz stereo WAV of about the given size, written once to disk.</summary>
    public async Task<string> WavAsync(long bytes, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, $"big-{bytes / (1024 * 1024)}MB.wav");
        var seconds = (bytes / (44100.0 * 4)).ToString("0.###", CultureInfo.InvariantCulture);
        await RunFfmpegAsync(
        [
            "-filter_complex",
            $"sine=frequency=440:sample_rate=44100:duration={seconds}[a];anoisesrc=color=pink:amplitude=0.1:sample_rate=44100:duration={seconds}[b];[a][b]amix=inputs=2,pan=stereo|c0=c0|c1=c0[out]",
            "-map", "[out]", "-c:a", "pcm_s16le", path,
        ], cancellationToken);
        return path;
    }

    public static async Task RunFfmpegAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-nostdin", "-hide_banner", "-loglevel", "error", "-y" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("ffmpeg could not be started; is it installed?");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ffmpeg failed ({process.ExitCode}): {await stderr}");
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
