using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Server.Admission;

/// <summary>
/// Backlog limits past which an upload is refused rather than queued (0 turns a limit off). The global counts come
/// from a cached snapshot at most RefreshSeconds old; the per-user count is one indexed query per upload.
/// </summary>
public sealed class AdmissionOptions
{
    public const string Section = "Admission";

    /// <summary>Tasks waiting for a worker across all users; above it an upload gets 503.</summary>
    [Range(0, int.MaxValue)]
    public int MaxQueuedTasks { get; set; }

    /// <summary>Tasks of one user waiting for a worker; above it that user's upload gets 429.</summary>
    [Range(0, int.MaxValue)]
    public int MaxQueuedTasksPerUser { get; set; }

    /// <summary>Seconds the oldest waiting task may have waited; beyond it an upload gets 503.</summary>
    [Range(0, 7 * 86_400)]
    public int MaxOldestTaskAgeSeconds { get; set; }

    public TimeSpan MaxOldestTaskAge => TimeSpan.FromSeconds(MaxOldestTaskAgeSeconds);

    /// <summary>How old the cached global counts may be (also the period of the queue gauges' query).</summary>
    [Range(1, 3600)]
    public int RefreshSeconds { get; set; } = 5;

    public TimeSpan Refresh => TimeSpan.FromSeconds(RefreshSeconds);

    /// <summary>The Retry-After of a refusal, in seconds.</summary>
    [Range(1, 86_400)]
    public int RetryAfterSeconds { get; set; } = 30;

    public TimeSpan RetryAfter => TimeSpan.FromSeconds(RetryAfterSeconds);
}
