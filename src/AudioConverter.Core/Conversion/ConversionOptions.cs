using System.Text.Json;
using System.Text.Json.Serialization;

namespace AudioConverter.Core.Conversion;

/// <summary>
/// The fully resolved options of one conversion (api.md "Conversion options"): what was asked, with the target's
/// defaults filled in. Stored with the task as JSON and returned with it.
/// </summary>
public sealed record ConversionOptions
{
    public static readonly ConversionOptions None = new();

    /// <summary>Constant bitrate in kbps.</summary>
    public int? Bitrate { get; init; }

    /// <summary>Variable bitrate on the codec's own scale.</summary>
    public double? Quality { get; init; }

    /// <summary>Output sample rate in Hz; null keeps the input's (or the nearest the encoder takes).</summary>
    public int? SampleRate { get; init; }

    /// <summary>Output channels; null keeps the input's (or as many as the encoder holds).</summary>
    public int? Channels { get; init; }

    public double? Start { get; init; }
    public double? End { get; init; }
    public double? FadeIn { get; init; }
    public double? FadeOut { get; init; }

    /// <summary>EBU R128 target in LUFS; null means no normalisation.</summary>
    public double? Loudness { get; init; }

    /// <summary>The true-peak ceiling in dBTP for <see cref="Loudness"/>.</summary>
    public double TruePeak { get; init; } = DefaultTruePeak;

    /// <summary><c>keep</c> or <c>strip</c>.</summary>
    public string Metadata { get; init; } = MetadataKeep;

    public string? Title { get; init; }
    public string? Artist { get; init; }
    public string? Album { get; init; }
    public string? Date { get; init; }
    public string? Genre { get; init; }
    public string? Track { get; init; }
    public string? Comment { get; init; }

    /// <summary>Also measure the output's loudness.</summary>
    public bool Analyze { get; init; }

    public const double DefaultTruePeak = -1;
    public const string MetadataKeep = "keep";
    public const string MetadataStrip = "strip";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    [JsonIgnore]
    public bool StripMetadata => Metadata == MetadataStrip;

    /// <summary>The tags to set, by their ffmpeg names, in a fixed order.</summary>
    [JsonIgnore]
    public IReadOnlyList<KeyValuePair<string, string>> Tags =>
        new (string Key, string? Value)[] { ("title", Title), ("artist", Artist), ("album", Album), ("date", Date), ("genre", Genre), ("track", Track), ("comment", Comment) }
            .Where(t => t.Value is not null)
            .Select(t => KeyValuePair.Create(t.Key, t.Value!))
            .ToList();

    /// <summary>True when an option changes the audio itself (so the stream cannot simply be copied), apart from bitrate and quality.</summary>
    [JsonIgnore]
    public bool ChangesAudio => Start is not null || End is not null || FadeIn is not null || FadeOut is not null || Loudness is not null;

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads stored options; null or empty (a task from before options existed) is <see cref="None"/>.</summary>
    public static ConversionOptions FromJson(string? json) =>
        string.IsNullOrWhiteSpace(json) ? None : JsonSerializer.Deserialize<ConversionOptions>(json, Json) ?? None;
}
