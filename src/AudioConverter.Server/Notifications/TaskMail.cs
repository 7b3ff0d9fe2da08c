using System.Text.Json;
using AudioConverter.Core.Notifications;
using AudioConverter.Core.Tasks;

namespace AudioConverter.Server.Notifications;

/// <summary>The e-mail for a processed or failed task, built from the task as its event recorded it.</summary>
public static class TaskMail
{
    public static TaskNotification? From(TaskEvent taskEvent)
    {
        if (taskEvent.Data is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(taskEvent.Data);
            var task = document.RootElement;
            return new TaskNotification(
                taskEvent.TaskId,
                taskEvent.UserId,
                String(task, "fileName") ?? $"Task {taskEvent.TaskId}",
                String(task, "newFormat") ?? "",
                taskEvent.Type == TaskEventTypes.Processed,
                task.TryGetProperty("outputBytes", out var bytes) && bytes.ValueKind == JsonValueKind.Number ? bytes.GetInt64() : null,
                task.TryGetProperty("durationSeconds", out var seconds) && seconds.ValueKind == JsonValueKind.Number ? seconds.GetDouble() : null,
                String(task, "error"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? String(JsonElement task, string name) =>
        task.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
