using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure.Media;

public sealed class MediaOptions
{
    public const string Section = "Media";

    [Required]
    public string FfmpegPath { get; set; } = "ffmpeg";

    [Required]
    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>util-linux's prlimit, which bounds each tool's address space (<see cref="MemoryLimitMegabytes"/>).</summary>
    [Required]
    public string PrlimitPath { get; set; } = "prlimit";

    /// <summary>The address space each ffmpeg or ffprobe may use, in MiB; 0 leaves it unbounded.</summary>
    [Range(0, 1_048_576)]
    public int MemoryLimitMegabytes { get; set; } = 2048;

    /// <summary>A conversion (all its ffmpeg runs together) running longer than this is killed with its process tree.</summary>
    [Range(1, 86_400)]
    public int ConversionTimeoutSeconds { get; set; } = 600;

    public TimeSpan ConversionTimeout => TimeSpan.FromSeconds(ConversionTimeoutSeconds);

    /// <summary>Inputs longer than this are refused by the worker (a few kilobytes can decode to hours of silence).</summary>
    [Range(1, 86_400)]
    public double MaxDurationSeconds { get; set; } = 3 * 3600;

    /// <summary>ffmpeg stops writing past this size; an output cut there fails.</summary>
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

    /// <summary>
    /// Whether ffmpeg and ffprobe run under Linux's idle scheduling policy (SCHED_IDLE, by `chrt --idle 0`): they get
    /// a core only while no request's thread wants it, where a nice value only weighs the share. Null, the default,
    /// means on when the API and the worker share the process (Role both) and off otherwise; the host resolves it at
    /// start. When on, <see cref="Niceness"/> has no effect. Measured in docs/capacity.md ("Uploads while converting"):
    /// at nice 10 conversions still took a third of a core from an upload burst, the idle policy a sixth.
    /// </summary>
    public bool? IdlePriority { get; set; }

    /// <summary>util-linux's chrt, which starts a tool under the idle scheduling policy (<see cref="IdlePriority"/>).</summary>
    [Required]
    public string ChrtPath { get; set; } = "chrt";

    /// <summary>How many peaks of the output are kept for drawing its waveform.</summary>
    [Range(16, 4096)]
    public int WaveformPoints { get; set; } = 1000;
}
