namespace AudioConverter.Core.Media;

/// <summary>
/// A target format: what it is and which options it takes. How ffmpeg makes it (encoder, muxer, flags) lives in
/// Infrastructure/Media.
/// </summary>
public sealed record AudioFormat(
    string Name,
    string Extension,
    string ContentType,
    string Codec,
    string Description,
    bool Lossless,
    FormatCapabilities Capabilities)
{
    private static readonly int[] Mp3Rates = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];
    private static readonly int[] AacRates = [7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000];
    private static readonly int[] OpusRates = [8000, 12000, 16000, 24000, 48000];

    public static readonly IReadOnlyList<AudioFormat> All =
    [
        new("mp3", "mp3", "audio/mpeg", "mp3", "MP3 (LAME; VBR quality 2, about 190 kbps, by default)", false,
            new(new BitrateRange(32, 320), null, new QualityScale(0, 9, 0, 2), Mp3Rates, 8000, 48000, 2, Tags: true, CoverArt: true)),
        new("wav", "wav", "audio/wav", "pcm_s16le", "WAV (PCM 16-bit; RF64 when too large for RIFF)", true,
            new(null, null, null, null, 1000, 384000, 8, Tags: true, CoverArt: false)),
        new("ogg", "ogg", "audio/ogg", "vorbis", "Ogg Vorbis (quality 4 by default)", false,
            new(new BitrateRange(64, 320), null, new QualityScale(-1, 10, 10, 4), null, 8000, 192000, 8, Tags: true, CoverArt: false)),
        new("m4a", "m4a", "audio/mp4", "aac", "M4A (AAC-LC, 192 kbps by default)", false,
            new(new BitrateRange(32, 320), 192, null, AacRates, 7350, 96000, 8, Tags: true, CoverArt: true)),
        new("aac", "aac", "audio/aac", "aac", "AAC in ADTS (192 kbps by default; holds no tags)", false,
            new(new BitrateRange(32, 320), 192, null, AacRates, 7350, 96000, 8, Tags: false, CoverArt: false)),
        new("flac", "flac", "audio/flac", "flac", "FLAC (lossless)", true,
            new(null, null, null, null, 1000, 384000, 8, Tags: true, CoverArt: true)),
        new("opus", "opus", "audio/ogg; codecs=opus", "opus", "Opus in Ogg (128 kbps by default)", false,
            new(new BitrateRange(6, 510), 128, null, OpusRates, 8000, 48000, 8, Tags: true, CoverArt: false)),
        new("wma", "wma", "audio/x-ms-wma", "wmav2", "WMA (wmav2, 128 kbps by default)", false,
            new(new BitrateRange(32, 192), 128, null, null, 8000, 48000, 2, Tags: true, CoverArt: false)),
    ];

    public static AudioFormat? Find(string? name) =>
        name is null ? null : All.FirstOrDefault(f => string.Equals(f.Name, name.Trim().TrimStart('.'), StringComparison.OrdinalIgnoreCase));

    public static string ContentTypeForExtension(string extension) =>
        Find(extension)?.ContentType ?? "application/octet-stream";

    /// <summary>Whether the encoder takes this sample rate as it is.</summary>
    public bool TakesSampleRate(int rate) =>
        Capabilities.SampleRates is { } rates ? rates.Contains(rate) : rate >= Capabilities.MinSampleRate && rate <= Capabilities.MaxSampleRate;

    /// <summary>The supported sample rate nearest to <paramref name="rate"/> (the higher one on a tie).</summary>
    public int NearestSampleRate(int rate)
    {
        if (Capabilities.SampleRates is { } rates)
        {
            return rates.OrderBy(r => Math.Abs(r - rate)).ThenByDescending(r => r).First();
        }

        return Math.Clamp(rate, Capabilities.MinSampleRate, Capabilities.MaxSampleRate);
    }
}

/// <summary>The options a format takes and the limits of its encoder.</summary>
/// <param name="Bitrate">Constant bitrates in kbps; null when the format has none (lossless).</param>
/// <param name="DefaultBitrate">The bitrate used when neither bitrate nor quality is given; null when the default is a quality.</param>
/// <param name="Quality">The codec's variable-bitrate scale; null when it has none.</param>
/// <param name="SampleRates">The encoder's fixed set of rates; null when any rate from min to max is taken.</param>
public sealed record FormatCapabilities(
    BitrateRange? Bitrate,
    int? DefaultBitrate,
    QualityScale? Quality,
    IReadOnlyList<int>? SampleRates,
    int MinSampleRate,
    int MaxSampleRate,
    int MaxChannels,
    bool Tags,
    bool CoverArt);

public sealed record BitrateRange(int Min, int Max);

/// <summary>A variable-bitrate scale; <see cref="Best"/> is its end of highest quality (0 for LAME, 10 for Vorbis).</summary>
public sealed record QualityScale(double Min, double Max, double Best, double Default);
