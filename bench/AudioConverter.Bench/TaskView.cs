namespace AudioConverter.Bench;

/// <summary>The fields of a task the bench reads (the API's JSON is camelCase).</summary>
internal sealed record TaskView(long Id, string Status, string? Error, DateTime CreatedAt, DateTime? StartedAt, DateTime? ProcessedAt, long InputBytes, long? OutputBytes, IReadOnlyList<string>? Notes = null);
