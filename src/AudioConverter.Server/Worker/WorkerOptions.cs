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

    [Range(1, 3600)]
    public int SweepIntervalSeconds { get; set; } = 10;

    /// <summary>A task whose message was published this long ago and is still uploaded gets published again.</summary>
    [Range(1, 86_400)]
    public int RepublishAfterSeconds { get; set; } = 600;

    /// <summary>Claims of one version before a transient failure becomes final.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    [Range(0, 3600)]
    public double RetryBaseDelaySeconds { get; set; } = 2;

    /// <summary>On shutdown, running conversions get this long to finish before they are handed back.</summary>
    [Range(0, 3600)]
    public int ShutdownGraceSeconds { get; set; } = 20;

    /// <summary>A blob no task refers to (or a half-written one) is deleted once it is this old; live uploads are much younger.</summary>
    [Range(1, 30 * 86_400)]
    public int OrphanBlobSeconds { get; set; } = 3600;

    /// <summary>Folder for temporary input and output files; empty means the system temp folder.</summary>
    public string TempPath { get; set; } = "";

    public int EffectiveConcurrency => Concurrency > 0 ? Concurrency : Environment.ProcessorCount;

    public string EffectiveTempPath => string.IsNullOrWhiteSpace(TempPath) ? Path.Combine(Path.GetTempPath(), "audioconverter") : TempPath;
}
