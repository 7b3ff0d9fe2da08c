namespace AudioConverter.Core.Media;

/// <summary>What ffprobe found in an input.</summary>
public sealed record MediaProbe(string FormatName, string? AudioCodec, double? DurationSeconds, bool HasAudio)
{
    /// <summary>The demuxer to name explicitly with -f when converting (the first of ffprobe's comma list).</summary>
    public string Demuxer => FormatName.Split(',')[0];
}
