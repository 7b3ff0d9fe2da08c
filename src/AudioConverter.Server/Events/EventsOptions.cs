using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Server.Events;

/// <summary>Events — the live stream at GET /api/events and how long its history is kept.</summary>
public sealed class EventsOptions
{
    public const string Section = "Events";

    /// <summary>How often each API process reads new rows of task_events for its streams.</summary>
    [Range(10, 60000)]
    public int PollIntervalMilliseconds { get; set; } = 500;

    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(PollIntervalMilliseconds);

    /// <summary>A comment line is sent this often on an idle stream, so proxies keep it open.</summary>
    [Range(0.05, 3600)]
    public double HeartbeatSeconds { get; set; } = 15;

    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);

    /// <summary>Open streams one user may hold on one API process; one more is answered 429.</summary>
    [Range(1, 1000)]
    public int MaxStreamsPerUser { get; set; } = 5;

    /// <summary>Events waiting for one slow stream; one more and the stream is closed (the client resumes with Last-Event-ID).</summary>
    [Range(1, 100000)]
    public int BufferSize { get; set; } = 256;

    /// <summary>A stream whose client takes longer than this to take one write is dropped.</summary>
    [Range(0.05, 600)]
    public double WriteTimeoutSeconds { get; set; } = 30;

    public TimeSpan WriteTimeout => TimeSpan.FromSeconds(WriteTimeoutSeconds);

    /// <summary>How long events are kept for Last-Event-ID resumes; older ones are pruned.</summary>
    [Range(0.001, 24 * 365)]
    public double RetentionHours { get; set; } = 24;

    public TimeSpan Retention => TimeSpan.FromHours(RetentionHours);

    /// <summary>How long a reader waits for a missing event id (a transaction still committing) before stepping over it.</summary>
    [Range(0.01, 600)]
    public double GapWaitSeconds { get; set; } = 5;

    public TimeSpan GapWait => TimeSpan.FromSeconds(GapWaitSeconds);
}
