using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Server.Worker;

public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Conversions at once in this process; 0 means one per core.</summary>
    [Range(0, 256)]
    public int Concurrency { get; set; }

    /// <summary>How long a claim lasts without renewal; a worker that dies loses its tasks to others after this.</summary>
    [Range(2, 3600)]
    public int LeaseSeconds { get; set; } = 60;

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    [Range(1, 3600)]
    public int SweepIntervalSeconds { get; set; } = 10;

    public TimeSpan SweepInterval => TimeSpan.FromSeconds(SweepIntervalSeconds);

    /// <summary>A task whose message was published this long ago and is still uploaded gets published again.</summary>
    [Range(1, 86_400)]
    public int RepublishAfterSeconds { get; set; } = 600;

    public TimeSpan RepublishAfter => TimeSpan.FromSeconds(RepublishAfterSeconds);

    /// <summary>
    /// Claims of one version that may end without an outcome (the worker died, its lease ran out) before the task fails
    /// for good: a file that kills the worker does not loop forever. The system's failures do not count here.
    /// </summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// How long the waits after the system's failures (a backend away, a full disk) may add up to before the task fails:
    /// an outage shorter than this loses nothing. The waits double from the base delay up to the longest one.
    /// </summary>
    [Range(0, 604_800)]
    public double RetryForSeconds { get; set; } = 3600;

    public TimeSpan RetryFor => TimeSpan.FromSeconds(RetryForSeconds);

    [Range(0, 3600)]
    public double RetryBaseDelaySeconds { get; set; } = 2;

    public TimeSpan RetryBaseDelay => TimeSpan.FromSeconds(RetryBaseDelaySeconds);

    /// <summary>The longest wait between two attempts, however many there were.</summary>
    [Range(0, 86_400)]
    public double RetryMaxDelaySeconds { get; set; } = 600;

    public TimeSpan RetryMaxDelay => TimeSpan.FromSeconds(RetryMaxDelaySeconds);

    /// <summary>
    /// Fairness: while another user's task waits, one user has at most this many tasks in processing; a claim over
    /// the share is offered again after <see cref="FairnessDelaySeconds"/>. 0 means no limit.
    /// </summary>
    [Range(0, 10_000)]
    public int MaxProcessingPerUser { get; set; } = 4;

    [Range(1, 3600)]
    public int FairnessDelaySeconds { get; set; } = 5;

    public TimeSpan FairnessDelay => TimeSpan.FromSeconds(FairnessDelaySeconds);

    /// <summary>An output may be at most this many times its input's size...</summary>
    [Range(1, 100_000)]
    public double OutputExpansionFactor { get; set; } = 50;

    /// <summary>...or this many bytes, whichever is larger: a tiny input may still become a normal-sized output.</summary>
    [Range(1024, long.MaxValue)]
    public long MinOutputCapBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Retention: originals are removed this many days after the upload; 0 keeps them.</summary>
    [Range(0, 36_500)]
    public double OriginalRetentionDays { get; set; } = 30;

    public TimeSpan OriginalRetention => TimeSpan.FromDays(OriginalRetentionDays);

    /// <summary>Retention: outputs are removed this many days after they were made; 0 keeps them.</summary>
    [Range(0, 36_500)]
    public double OutputRetentionDays { get; set; } = 30;

    public TimeSpan OutputRetention => TimeSpan.FromDays(OutputRetentionDays);

    /// <summary>How often retention and the orphan-blob scan run (they are kept off the sweeper's short loop).</summary>
    [Range(1, 86_400)]
    public int JanitorIntervalSeconds { get; set; } = 300;

    public TimeSpan JanitorInterval => TimeSpan.FromSeconds(JanitorIntervalSeconds);

    /// <summary>On shutdown, running conversions get this long to finish before they are handed back.</summary>
    [Range(0, 3600)]
    public int ShutdownGraceSeconds { get; set; } = 20;

    public TimeSpan ShutdownGrace => TimeSpan.FromSeconds(ShutdownGraceSeconds);

    /// <summary>A blob no task refers to (or a half-written one) is deleted once it is this old; live uploads are much younger.</summary>
    [Range(1, 30 * 86_400)]
    public int OrphanBlobSeconds { get; set; } = 3600;

    public TimeSpan OrphanBlobAge => TimeSpan.FromSeconds(OrphanBlobSeconds);

    /// <summary>Folder for temporary input and output files; empty means the system temp folder.</summary>
    public string TempPath { get; set; } = "";

    /// <summary>
    /// Names this installation (its database and blob store) in the work folder, so two installations on one host
    /// never share one; set from the configuration by <see cref="WorkerInstance"/>.
    /// </summary>
    public string InstanceId { get; set; } = "";

    public int EffectiveConcurrency => Concurrency > 0 ? Concurrency : Environment.ProcessorCount;

    /// <summary>This installation's own work folder: the temp folder, then the instance id.</summary>
    public string EffectiveTempPath => Path.Combine(
        string.IsNullOrWhiteSpace(TempPath) ? Path.Combine(Path.GetTempPath(), "audioconverter") : TempPath,
        string.IsNullOrWhiteSpace(InstanceId) ? "default" : InstanceId);

    public Core.Tasks.RetryPolicy RetryPolicy => new(MaxAttempts, RetryBaseDelay, RetryMaxDelay > RetryBaseDelay ? RetryMaxDelay : RetryBaseDelay, RetryFor);

    public Infrastructure.Data.ClaimRules ClaimRules => new(LeaseSeconds, MaxAttempts, MaxProcessingPerUser);

    /// <summary>The output cap of one conversion: max(<see cref="MinOutputCapBytes"/>, input bytes × <see cref="OutputExpansionFactor"/>).</summary>
    public long OutputCapFor(long inputBytes) => (long)Math.Min(long.MaxValue / 2.0, Math.Max(MinOutputCapBytes, inputBytes * OutputExpansionFactor));
}
