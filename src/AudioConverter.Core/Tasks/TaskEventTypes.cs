namespace AudioConverter.Core.Tasks;

/// <summary>The names of task events, as the event stream and webhooks send them.</summary>
public static class TaskEventTypes
{
    public const string Created = "task.created";
    public const string Progress = "task.progress";
    public const string Processed = "task.processed";
    public const string Failed = "task.failed";
    public const string Deleted = "task.deleted";

    public static readonly IReadOnlyList<string> All = [Created, Progress, Processed, Failed, Deleted];
}
