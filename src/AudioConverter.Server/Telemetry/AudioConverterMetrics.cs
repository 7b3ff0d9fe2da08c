using System.Diagnostics.Metrics;

namespace AudioConverter.Server.Telemetry;

/// <summary>
/// The service's own instruments, on the Meter "AudioConverter". Static, so the worker, the sweeper and the webhook
/// dispatcher each record with one line; the OpenTelemetry SDK exports them (Prometheus names in docs/operations.md).
/// </summary>
public static class AudioConverterMetrics
{
    public const string MeterName = "AudioConverter";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Uploads accepted (201): audioconverter_uploads_total.</summary>
    public static readonly Counter<long> Uploads = Meter.CreateCounter<long>("audioconverter.uploads", "{upload}", "Uploads accepted");

    /// <summary>Bytes of accepted uploads: audioconverter_upload_size_bytes_total.</summary>
    public static readonly Counter<long> UploadBytes = Meter.CreateCounter<long>("audioconverter.upload.size", "By", "Bytes of accepted uploads");

    /// <summary>Uploads refused by admission control, by reason: audioconverter_admission_refusals_total.</summary>
    public static readonly Counter<long> AdmissionRefusals = Meter.CreateCounter<long>("audioconverter.admission.refusals", "{upload}", "Uploads refused because the backlog is over a limit");

    /// <summary>Conversions that ended, by target format and outcome (processed, failed): audioconverter_conversions_total.</summary>
    public static readonly Counter<long> Conversions = Meter.CreateCounter<long>("audioconverter.conversions", "{conversion}", "Conversions that ended, by target and outcome");

    /// <summary>Wall-clock seconds of a conversion: audioconverter_conversion_duration_seconds.</summary>
    public static readonly Histogram<double> ConversionDuration = Meter.CreateHistogram(
        "audioconverter.conversion.duration", "s", "Seconds from claim to outcome of a conversion",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] });

    /// <summary>Seconds of audio converted per second of conversion: audioconverter_conversion_realtime_factor.</summary>
    public static readonly Histogram<double> RealtimeFactor = Meter.CreateHistogram(
        "audioconverter.conversion.realtime_factor", "", "Seconds of audio converted per wall-clock second",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500] });

    /// <summary>
    /// Seconds each progress write took (its row update and task.progress event, one transaction):
    /// audioconverter_progress_write_duration_seconds; against the conversions' duration, what progress costs.
    /// </summary>
    public static readonly Histogram<double> ProgressWriteDuration = Meter.CreateHistogram(
        "audioconverter.progress.write.duration", "s", "Seconds a progress write (row update and event) took",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] });

    /// <summary>Tasks whose worker died and whose lease the sweeper reclaimed: audioconverter_leases_reclaimed_total.</summary>
    public static readonly Counter<long> LeasesReclaimed = Meter.CreateCounter<long>("audioconverter.leases.reclaimed", "{task}", "Expired leases reclaimed by the sweeper");

    /// <summary>Transient failures put back for another attempt: audioconverter_retries_total.</summary>
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("audioconverter.retries", "{task}", "Conversions put back for another attempt after a transient failure");

    /// <summary>Webhook deliveries, by outcome (delivered, failed): audioconverter_webhook_deliveries_total.</summary>
    public static readonly Counter<long> WebhookDeliveries = Meter.CreateCounter<long>("audioconverter.webhook.deliveries", "{delivery}", "Webhook deliveries attempted, by outcome");

    /// <summary>One line for the worker: the outcome of a conversion, its wall-clock time and, when known, the audio's length.</summary>
    public static void RecordConversion(string target, string outcome, TimeSpan elapsed, double? audioSeconds)
    {
        // The worker's span for the delivery says how it ended.
        System.Diagnostics.Activity.Current?.SetTag("audioconverter.outcome", outcome);
        System.Diagnostics.Activity.Current?.AddEvent(new System.Diagnostics.ActivityEvent("outcome written"));
        var targetTag = new KeyValuePair<string, object?>("target", target);
        Conversions.Add(1, targetTag, new KeyValuePair<string, object?>("outcome", outcome));
        ConversionDuration.Record(elapsed.TotalSeconds, targetTag, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome == "processed" && audioSeconds is > 0 && elapsed > TimeSpan.Zero)
        {
            RealtimeFactor.Record(audioSeconds.Value / elapsed.TotalSeconds, targetTag);
        }
    }
}
