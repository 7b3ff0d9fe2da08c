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
/// Reads a task's stored result with a source-generated reader and the writer's settings (web defaults, nulls left
/// out): the same values as <see cref="ConversionResult.FromJson"/> without the peaks. (Options stay with
/// <see cref="ConversionOptions.FromJson"/>: a source-generated reader sets every init-only property, so options
/// stored before one existed would read 0 or null instead of its default.)
/// </summary>
public static class StoredTaskColumns
{
    /// <summary>Null for a task with no result yet (null or blank column).</summary>
    public static StoredResultSummary? Result(string? json) =>
        string.IsNullOrWhiteSpace(json) ? null : JsonSerializer.Deserialize(json, StoredTaskJson.Default.StoredResultSummary);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredResultSummary))]
internal sealed partial class StoredTaskJson : JsonSerializerContext;
