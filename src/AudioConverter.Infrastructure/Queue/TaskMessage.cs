using System.Diagnostics;
using System.Text.Json;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>
/// The body of a queue message: the task id, and the W3C trace context of the request that published it, as JSON
/// {"taskId":123,"traceParent":"00-…-…-01"}, so the worker's conversion joins the upload's trace.
/// </summary>
internal sealed record TaskMessage(long TaskId, string? TraceParent = null)
{
    /// <summary>A message for the task, carrying the current activity's trace context when there is one.</summary>
    public static TaskMessage For(long taskId) =>
        new(taskId, Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.Id : null);

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, JsonSerializerOptions.Web);

    /// <summary>The task id, or null for a body that is not a task message (it is dead-lettered, never retried).</summary>
    public static long? Parse(ReadOnlySpan<byte> body) => Read(body)?.TaskId;

    /// <summary>The whole message, or null for a body that is not a task message.</summary>
    public static TaskMessage? Read(ReadOnlySpan<byte> body)
    {
        try
        {
            var message = JsonSerializer.Deserialize<TaskMessage>(body, JsonSerializerOptions.Web);

            // A trace context is only ever a hint: a malformed one is dropped, never a reason to refuse the task.
            return message is { TraceParent: { } parent } && !ActivityContext.TryParse(parent, null, out _) ? message with { TraceParent = null } : message;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
