using System.Text.Json.Serialization;
using AudioConverter.Core.Conversion;
using AudioConverter.Core.Tasks;

namespace AudioConverter.Server.Tasks;

public sealed record TaskResponse(
    long Id,
    string FileName,
    string OriginalFormat,
    string NewFormat,
    string Status,
    string? Error,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? StartedAt,
    DateTime? ProcessedAt,
    long InputBytes,
    long? OutputBytes,
    double? DurationSeconds,
    string OriginalUrl,
    string? ConvertedUrl,
    ConversionOptions? Options = null,
    int? Progress = null,
    IReadOnlyList<string>? Notes = null,
    bool? Encoded = null,
    MediaFacts? Input = null,
    [property: JsonPropertyName("output")] OutputFacts? Output = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? WebhookSecret = null)
{
    public static TaskResponse From(ConversionTask task)
    {
        var result = StoredTaskColumns.Result(task.Result);
        return new(
            task.Id,
            task.FileName,
            task.OriginalFormat,
            task.NewFormat,
            StatusName(task.Status),
            task.Error,
            DateTime.SpecifyKind(task.CreatedAt, DateTimeKind.Utc),
            DateTime.SpecifyKind(task.UpdatedAt, DateTimeKind.Utc),
            Utc(task.StartedAt),
            Utc(task.ProcessedAt),
            task.InputBytes,
            task.OutputBytes,
            task.DurationSeconds,
            "/api/files/" + StoredName(task.InputKey),
            task is { Status: ConversionStatus.Processed, OutputKey: not null } ? "/api/files/" + StoredName(task.OutputKey) : null,
            ConversionOptions.FromJson(task.Options),
            task.Status switch { ConversionStatus.Processing => task.Progress ?? 0, ConversionStatus.Processed => 100, _ => null },
            result?.Notes ?? [],
            result?.Encoded,
            result?.Input,
            task.Status == ConversionStatus.Processed ? result?.Output : null);
    }

    public static string StatusName(ConversionStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>The name a blob is shown by in URLs: its key without the folder.</summary>
    public static string StoredName(string key) => key[(key.LastIndexOf('/') + 1)..];

    private static DateTime? Utc(DateTime? value) => value is null ? null : DateTime.SpecifyKind(value.Value, DateTimeKind.Utc);
}
