using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure.Notifications;

/// <summary>Webhooks — how deliveries are sent and retried, and which targets are allowed.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Allow URLs that resolve to loopback, private, link-local or metadata addresses (tests, a private network).</summary>
    public bool AllowPrivateTargets { get; set; }

    [Range(1, 60)]
    public int ConnectTimeoutSeconds { get; set; } = 5;

    public TimeSpan ConnectTimeout => TimeSpan.FromSeconds(ConnectTimeoutSeconds);

    /// <summary>The whole request, connect to last byte of the answer's start.</summary>
    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 15;

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    /// <summary>Sends in flight at once per dispatcher; a slow receiver holds one slot, never the others.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentSends { get; set; } = 32;

    /// <summary>Task events turned into deliveries per transaction, and deliveries read per batch.</summary>
    [Range(1, 10000)]
    public int BatchSize { get; set; } = 200;

    /// <summary>How often the dispatcher looks for new events and due deliveries when idle.</summary>
    [Range(10, 60000)]
    public int PollIntervalMilliseconds { get; set; } = 500;

    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(PollIntervalMilliseconds);

    /// <summary>Waits before each retry, in seconds, comma-separated; the last one repeats until <see cref="MaxAgeHours"/>.</summary>
    [RegularExpression(@"^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$", ErrorMessage = "{0} must be numbers of seconds separated by commas, e.g. 5, 60, 300.")]
    public string RetryScheduleSeconds { get; set; } = "5, 60, 300, 1800, 7200, 18000, 36000";

    /// <summary>A message older than this is given up.</summary>
    [Range(0.001, 168)]
    public double MaxAgeHours { get; set; } = 24;

    public TimeSpan MaxAge => TimeSpan.FromHours(MaxAgeHours);

    /// <summary>Each wait is spread by ± this fraction so retries from many messages do not arrive together.</summary>
    [Range(0, 0.9)]
    public double Jitter { get; set; } = 0.2;

    /// <summary>Endpoints one user may create.</summary>
    [Range(1, 1000)]
    public int MaxEndpointsPerUser { get; set; } = 20;

    public RetrySchedule Schedule => new(
        RetryScheduleSeconds.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => TimeSpan.FromSeconds(double.Parse(s, System.Globalization.CultureInfo.InvariantCulture))).ToArray(),
        MaxAge,
        Jitter);
}
