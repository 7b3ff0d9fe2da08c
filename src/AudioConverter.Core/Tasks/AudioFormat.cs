namespace AudioConverter.Core.Tasks;

/// <summary>A target format: its ffmpeg encoder and muxer and how it is served.</summary>
public sealed record AudioFormat(
    string Name,
    string Extension,
    string ContentType,
    string Codec,
    string Muxer,
    string Description,
    IReadOnlyList<string> EncoderArguments)
{
    public static readonly IReadOnlyList<AudioFormat> All =
    [
        new("mp3", "mp3", "audio/mpeg", "mp3", "mp3", "MP3 (LAME, VBR ~190 kbps)", ["-c:a", "libmp3lame", "-q:a", "2"]),
        new("wav", "wav", "audio/wav", "pcm_s16le", "wav", "WAV (PCM 16-bit)", ["-c:a", "pcm_s16le"]),
        new("ogg", "ogg", "audio/ogg", "vorbis", "ogg", "Ogg Vorbis (q4)", ["-c:a", "libvorbis", "-q:a", "4"]),
        new("m4a", "m4a", "audio/mp4", "aac", "ipod", "M4A (AAC-LC 192 kbps)", ["-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart"]),
        new("aac", "aac", "audio/aac", "aac", "adts", "AAC in ADTS (192 kbps)", ["-c:a", "aac", "-b:a", "192k"]),
        new("flac", "flac", "audio/flac", "flac", "flac", "FLAC (lossless)", ["-c:a", "flac"]),
        new("opus", "opus", "audio/ogg; codecs=opus", "opus", "opus", "Opus in Ogg (128 kbps)", ["-c:a", "libopus", "-b:a", "128k"]),
        new("wma", "wma", "audio/x-ms-wma", "wmav2", "asf", "WMA (wmav2 192 kbps)", ["-c:a", "wmav2", "-b:a", "192k"]),
    ];

    public static AudioFormat? Find(string? name) =>
        name is null ? null : All.FirstOrDefault(f => string.Equals(f.Name, name.Trim().TrimStart('.'), StringComparison.OrdinalIgnoreCase));

    public static string ContentTypeForExtension(string extension) =>
        Find(extension)?.ContentType ?? "application/octet-stream";
}
