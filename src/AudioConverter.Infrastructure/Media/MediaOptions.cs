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
}
