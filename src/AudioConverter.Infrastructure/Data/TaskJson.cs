using System.Text;
using System.Text.Json;
using AudioConverter.Core.Tasks;

namespace AudioConverter.Infrastructure.Data;

/// <summary>
/// A task as the API shows it (camelCase, the fields of <c>TaskResponse</c> plus <c>progress</c>), for the
/// <see cref="TaskEvent.Data"/> of events written next to each transition.
/// </summary>
public static class TaskJson
{
    public static string Serialize(ConversionTask task)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("id", task.Id);
            json.WriteString("fileName", task.FileName);
            json.WriteString("originalFormat", task.OriginalFormat);
            json.WriteString("newFormat", task.NewFormat);
            json.WriteString("status", task.Status.ToString().ToLowerInvariant());
            WriteNullable(json, "error", task.Error);
            json.WriteString("createdAt", Utc(task.CreatedAt));
            json.WriteString("updatedAt", Utc(task.UpdatedAt));
            WriteTime(json, "startedAt", task.StartedAt);
            WriteTime(json, "processedAt", task.ProcessedAt);
            json.WriteNumber("inputBytes", task.InputBytes);
            WriteNumber(json, "outputBytes", task.OutputBytes);
            if (task.DurationSeconds is { } duration)
            {
                json.WriteNumber("durationSeconds", duration);
            }
            else
            {
                json.WriteNull("durationSeconds");
            }

            WriteNumber(json, "progress", task.Progress);
            json.WriteString("originalUrl", "/api/files/" + StoredName(task.InputKey));
            WriteNullable(json, "convertedUrl", task is { Status: ConversionStatus.Processed, OutputKey: not null } ? "/api/files/" + StoredName(task.OutputKey) : null);
            json.WriteNumber("version", task.Version);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string StoredName(string key) => key[(key.LastIndexOf('/') + 1)..];

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

    private static void WriteTime(Utf8JsonWriter json, string name, DateTime? value)
    {
        if (value is { } time)
        {
            json.WriteString(name, Utc(time));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
