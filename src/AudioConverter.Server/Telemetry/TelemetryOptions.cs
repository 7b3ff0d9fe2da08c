namespace AudioConverter.Server.Telemetry;

public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Serve the metrics in the Prometheus text format at /metrics (no authentication: keep it off the public ingress).</summary>
    public bool PrometheusEnabled { get; set; } = true;

    /// <summary>An OTLP/HTTP collector (e.g. http://otel-collector:4318): traces and metrics are pushed there; empty means no OTLP export.</summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary>The service.name resource attribute of this process's telemetry.</summary>
    [System.ComponentModel.DataAnnotations.Required]
    public string ServiceName { get; set; } = "audioconverter";

    /// <summary>The collector's address, or null when none (or not an http(s) URL, which the rules report).</summary>
    public Uri? OtlpUri => Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;
}
