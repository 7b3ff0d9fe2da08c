using AudioConverter.Core.Conversion;

namespace AudioConverter.Server.Presets;

/// <summary>
/// The presets every user has, written as the fields a client would send and run through the same validator, once,
/// at start-up: a built-in preset that does not fit its format stops the server instead of failing uploads.
/// </summary>
public static class BuiltInPresets
{
    private static readonly (string Name, string Format, (string Option, string Value)[] Fields)[] Definitions =
    [
        ("podcast speech", "mp3", [("bitrate", "64"), ("channels", "1"), ("sampleRate", "44100"), ("loudness", "-16"), ("truePeak", "-1.5")]),
        ("voice memo", "opus", [("bitrate", "24"), ("channels", "1"), ("sampleRate", "16000")]),
        ("archival lossless", "flac", [("metadata", "keep")]),
        ("high-quality music", "mp3", [("bitrate", "320"), ("metadata", "keep")]),
        ("telephony", "wav", [("sampleRate", "8000"), ("channels", "1")]),
    ];

    /// <summary>The built-in presets, validated; throws <see cref="InvalidOperationException"/> naming the preset and option that do not fit.</summary>
    public static IReadOnlyList<Preset> All { get; } = Build();

    public static Preset? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    private static List<Preset> Build()
    {
        var presets = new List<Preset>();
        foreach (var (name, formatName, fields) in Definitions)
        {
            var format = AudioFormat.Find(formatName) ?? throw new InvalidOperationException($"Built-in preset '{name}' names the unknown format {formatName}.");
            var result = ConversionOptionsParser.Parse(fields.Select(f => KeyValuePair.Create(f.Option, (string?)f.Value)), format);
            if (!result.IsValid)
            {
                throw new InvalidOperationException($"Built-in preset '{name}' does not fit {formatName}: {string.Join(" ", result.Errors.Values.SelectMany(v => v))}");
            }

            presets.Add(new Preset(name, true, format.Name, result.Options!));
        }

        return presets;
    }
}
