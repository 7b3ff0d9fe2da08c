using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Telemetry;

/// <summary>The collector's address must be an http(s) URL when given.</summary>
public sealed class TelemetryOptionsRules : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options) =>
        options.OtlpEndpoint.Length == 0 || options.OtlpUri is not null
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Telemetry:OtlpEndpoint '{options.OtlpEndpoint}' is not an http(s) URL; give the collector's OTLP/HTTP address, e.g. http://otel-collector:4318.");
}
