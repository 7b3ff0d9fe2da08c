using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure.Media;

public sealed class MediaOptions
{
    public const string Section = "Media";

    [Required]
    public string FfmpegPath { get; set; } = "ffmpeg";

    /// <summary>A conversion running longer than this is killed with its process tree.</summary>
    [Range(1, 86_400)]
    public int ConversionTimeoutSeconds { get; set; } = 600;

    /// <summary>Inputs longer than this are refused by the worker (a few kilobytes can decode to hours of silence).</summary>
    [Range(1, 86_400)]
    public double MaxDurationSeconds { get; set; } = 3 * 3600;

    /// <summary>ffmpeg stops writing past this size.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxOutputBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Threads each ffmpeg may use; 1 lets the worker's concurrency spread conversions over the cores.</summary>
    [Range(0, 64)]
    public int ThreadsPerConversion { get; set; } = 1;

    /// <summary>
    /// The CPU priority ffmpeg runs at, as a `nice` increment (0 to 19; higher is lower priority), so conversions take
    /// what requests leave. -1, the default, means 10 when the API and the worker share the process (Role both) and 0
    /// otherwise; the host resolves it at start.
    /// </summary>
    [Range(-1, 19)]
    public int Niceness { get; set; } = -1;

    /// <summary>The program and arguments to start ffmpeg with: behind `nice -n N` when a lower priority is asked for.</summary>
    public (string Tool, IReadOnlyList<string> Prefix) FfmpegCommand =>
        Niceness > 0 ? ("nice", ["-n", Niceness.ToString(System.Globalization.CultureInfo.InvariantCulture), FfmpegPath]) : (FfmpegPath, []);
}
