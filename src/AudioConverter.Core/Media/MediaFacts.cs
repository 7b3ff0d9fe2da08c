namespace AudioConverter.Core.Media;

/// <summary>What a file holds: its container, the audio stream's codec, rate and channels, bitrate (kbps) and length.</summary>
public sealed record MediaFacts(string Container, string Codec, int SampleRate, int Channels, int? Bitrate, double? DurationSeconds);

/// <summary>EBU R128 measurements: integrated loudness (LUFS), loudness range (LU), true peak (dBTP).</summary>
public sealed record LoudnessFacts(double Integrated, double Range, double TruePeak);

/// <summary>The verified output: its facts as read back, its measured length, size and SHA-256, and its loudness when asked for.</summary>
public sealed record OutputFacts(
    string Container,
    string Codec,
    int SampleRate,
    int Channels,
    int? Bitrate,
    double DurationSeconds,
    long Bytes,
    string Sha256,
    LoudnessFacts? Loudness);
