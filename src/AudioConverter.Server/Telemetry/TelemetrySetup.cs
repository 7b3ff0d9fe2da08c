using AudioConverter.Infrastructure;
using AudioConverter.Server.Hosting;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AudioConverter.Server.Telemetry;

/// <summary>
/// OpenTelemetry for every role: ASP.NET Core request metrics, the service's own spans and Meter, exported at /metrics
/// in the Prometheus text format (pulled by Prometheus) and pushed over OTLP/HTTP when Telemetry:OtlpEndpoint is set,
/// with ASP.NET Core's request spans then too. Log lines carry the trace and span ids through the console formatter's scopes.
/// </summary>
public static class TelemetrySetup
{
    public static void AddAudioConverterTelemetry(this WebApplicationBuilder builder, HostingOptions hosting)
    {
        var services = builder.Services;
        // Read now: which exporters exist is decided while registering.
        var telemetry = services.ReadSettings(builder.Configuration, TelemetryOptions.Section, new TelemetryOptionsRules());
        var otlp = telemetry.OtlpUri;
        services.AddSingleton<BacklogMonitor>();

        // Every log line written inside a request or a conversion names its trace, so logs and traces join up.
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        // Without a formatter name the console logger falls back to its legacy options, which turn scopes off again.
        services.PostConfigure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.FormatterName ??= Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Simple);
        services.Configure<Microsoft.Extensions.Logging.Console.SimpleConsoleFormatterOptions>(o => o.IncludeScopes = true);
        services.Configure<Microsoft.Extensions.Logging.Console.JsonConsoleFormatterOptions>(o => o.IncludeScopes = true);

        var role = hosting.RunsBoth ? "both" : hosting.RunsApi ? "api" : "worker";
        var openTelemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(telemetry.ServiceName, serviceInstanceId: $"{Environment.MachineName}-{Environment.ProcessId}")
                .AddAttributes([new("audioconverter.role", role)]));

        openTelemetry.WithTracing(tracing =>
        {
            tracing.AddSource(AudioConverterTracing.SourceName);
            if (otlp is not null)
            {
                tracing.AddAspNetCoreInstrumentation(o => o.Filter = http => !IsPlumbing(http.Request.Path))
                    .AddOtlpExporter(o => Otlp(o, otlp, "v1/traces"));
            }
            else
            {
                // No collector: request spans would be filled with their tags and dropped on every request (a cached
                // listing's profile showed them beside the handler itself, docs/capacity.md). Request log lines keep their trace
                // and span ids without them (ASP.NET Core starts each request's Activity for its logging scopes); the
                // service's own spans, one per conversion, are kept whatever the request's sampling flag says, so the
                // worker's log lines still carry the upload's trace id.
                tracing.SetSampler(new AlwaysOnSampler());
            }
        });

        openTelemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(AudioConverterMetrics.MeterName)
                .AddAspNetCoreInstrumentation();
            if (telemetry.PrometheusEnabled)
            {
                metrics.AddPrometheusExporter();
            }

            if (otlp is not null)
            {
                metrics.AddOtlpExporter(o => Otlp(o, otlp, "v1/metrics"));
            }
        });
    }

    public static void MapAudioConverterTelemetry(this WebApplication app)
    {
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetryOptions>>().Value.PrometheusEnabled)
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
        }
    }

    // Scrapes and probes every few seconds would drown the traces that matter.
    private static bool IsPlumbing(PathString path) => path.StartsWithSegments("/metrics") || path.StartsWithSegments("/health");

    private static void Otlp(OtlpExporterOptions options, Uri endpoint, string signal)
    {
        options.Protocol = OtlpExportProtocol.HttpProtobuf;
        options.Endpoint = new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/" + signal);
    }
}
