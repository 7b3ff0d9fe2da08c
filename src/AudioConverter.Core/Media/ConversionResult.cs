using System.Text.Json;
using System.Text.Json.Serialization;

namespace AudioConverter.Core.Media;

/// <summary>
/// What a conversion found and produced, stored with the task as JSON: whether the audio was encoded or copied,
/// notes on what was changed to fit the target, the input's and the verified output's facts, and peaks for drawing.
/// </summary>
public sealed record ConversionResult(bool Encoded, IReadOnlyList<string> Notes, MediaFacts Input, OutputFacts Output, IReadOnlyList<double> Peaks)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ConversionResult? FromJson(string? json) =>
        string.IsNullOrWhiteSpace(json) ? null : JsonSerializer.Deserialize<ConversionResult>(json, Json);
}
