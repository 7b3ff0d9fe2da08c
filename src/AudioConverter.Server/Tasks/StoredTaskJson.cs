using System.Text.Json;
using System.Text.Json.Serialization;
using AudioConverter.Core.Conversion;
using AudioConverter.Core.Media;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// What a task's answer shows of its stored <c>Result</c>: everything but the waveform peaks. Reading the stored JSON
/// into this type skips the peaks (up to a thousand numbers per processed task) instead of parsing them into a list
/// that a task's answer never shows; the waveform route still reads them through <see cref="ConversionResult"/>.
/// </summary>
public sealed record StoredResultSummary(bool Encoded, IReadOnlyList<string>? Notes, MediaFacts? Input, OutputFacts? Output);

/// <summary>
/// Reads the JSON columns a task's answer shows, with source-generated readers and the writers' settings (web
/// defaults, nulls left out): the same values as <see cref="ConversionResult.FromJson"/> and
/// <see cref="ConversionOptions.FromJson"/>, without their reflection metadata or the peaks.
/// </summary>
public static class StoredTaskColumns
{
    /// <summary>Null for a task with no result yet (null or blank column).</summary>
    public static StoredResultSummary? Result(string? json) =>
        string.IsNullOrWhiteSpace(json) ? null : JsonSerializer.Deserialize(json, StoredTaskJson.Default.StoredResultSummary);

    /// <summary>Stored options; null or blank (a task from before options existed) is <see cref="ConversionOptions.None"/>.</summary>
    public static ConversionOptions Options(string? json) =>
        string.IsNullOrWhiteSpace(json) ? ConversionOptions.None : JsonSerializer.Deserialize(json, StoredTaskJson.Default.ConversionOptions) ?? ConversionOptions.None;
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredResultSummary))]
[JsonSerializable(typeof(ConversionOptions))]
internal sealed partial class StoredTaskJson : JsonSerializerContext;
