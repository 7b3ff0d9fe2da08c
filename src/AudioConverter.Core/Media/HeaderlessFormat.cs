namespace AudioConverter.Core.Media;

/// <summary>
/// A recording with no header, known only by its extension, and what is assumed of it: telephony (A-law, µ-law,
/// G.722, GSM) at 8 kHz mono (G.722 at 16 kHz), raw PCM (signed 16-bit little-endian, signed or unsigned 8-bit) at
/// 16 kHz mono for 16-bit and 8 kHz mono for 8-bit.
/// </summary>
/// <param name="Encoding">The sample encoding, named as ffmpeg's raw demuxer for it.</param>
public sealed record HeaderlessFormat(string Extension, string Encoding, int SampleRate, int Channels)
{
    public static readonly IReadOnlyList<HeaderlessFormat> All =
    [
        new("alaw", "alaw", 8000, 1),
        new("al", "alaw", 8000, 1),
        new("ulaw", "mulaw", 8000, 1),
        new("mulaw", "mulaw", 8000, 1),
        new("ul", "mulaw", 8000, 1),
        new("g722", "g722", 16000, 1),
        new("gsm", "gsm", 8000, 1),
        new("pcm", "s16le", 16000, 1),
        new("raw", "s16le", 16000, 1),
        new("s16", "s16le", 16000, 1),
        new("s8", "s8", 8000, 1),
        new("u8", "u8", 8000, 1),
    ];

    /// <summary>The headerless format named by a file's extension (with or without the dot), or null.</summary>
    public static HeaderlessFormat? Find(string? extension)
    {
        var name = extension?.Trim().TrimStart('.');
        return string.IsNullOrEmpty(name) ? null : All.FirstOrDefault(f => f.Extension.Equals(name, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The headerless format of a path's extension, or null.</summary>
    public static HeaderlessFormat? ForPath(string path) => Find(Path.GetExtension(path));
}
