using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Server.Hosting;

/// <summary>How start-up treats a backend that is away: a restarted process, or containers started in any order.</summary>
public sealed class StartupOptions
{
    public const string Section = "Startup";

    /// <summary>
    /// How long start-up waits for each backend that does not answer yet (the database, another process's migrations,
    /// the bucket, the broker or topic), logging one line per attempt, before it stops with one line naming the setting.
    /// </summary>
    [Range(1, 3600)]
    public int BackendWaitSeconds { get; set; } = 120;

    public TimeSpan BackendWait => TimeSpan.FromSeconds(BackendWaitSeconds);
}
