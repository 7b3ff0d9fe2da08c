using System.Text.Json;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>The body of a queue message: the task id only, as JSON {"taskId":123}.</summary>
internal sealed record TaskMessage(long TaskId)
{
    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, JsonSerializerOptions.Web);

    /// <summary>The task id, or null for a body that is not a task message (it is dead-lettered, never retried).</summary>
    public static long? Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            return JsonSerializer.Deserialize<TaskMessage>(body, JsonSerializerOptions.Web)?.TaskId;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
