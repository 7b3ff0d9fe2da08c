using AudioConverter.Server.Auth;
using AudioConverter.Server.Files;
using AudioConverter.Server.Idempotency;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace AudioConverter.Server.Hosting;

/// <summary>The HTTP side of the host: connection limits, errors as problem+json, health checks, the middleware order, the API's documentation.</summary>
public static class HttpSetup
{
    public static IServiceCollection AddHttpServices(this IServiceCollection services)
    {
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimitsOptions>>((kestrel, limits) => ApplyLimits(kestrel.Limits, limits.Value));
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemDefaults.Describe);
        services.AddExceptionHandler<UnavailableExceptionHandler>();
        services.AddHealthChecks().AddCheck<ReadinessCheck>("backends", tags: ["ready"]);
        services.AddOpenApi(OpenApiDocument.Configure);
        return services;
    }

    /// <summary>Bounds what one connection may cost: header size and count, slow headers (slowloris), slow bodies.</summary>
    private static void ApplyLimits(KestrelServerLimits limits, RequestLimitsOptions options)
    {
        limits.MaxRequestHeadersTotalSize = options.MaxRequestHeadersTotalBytes;
        limits.MaxRequestHeaderCount = options.MaxRequestHeaderCount;
        limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
        limits.KeepAliveTimeout = options.KeepAliveTimeout;
        limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        limits.MinRequestBodyDataRate = new MinDataRate(options.MinRequestBodyBytesPerSecond, options.MinRequestBodyGrace);
    }

    /// <summary>The middleware, in order: forwarded headers (when trusted), security headers, errors, the page, authentication and its checks, idempotency.</summary>
    public static WebApplication UseAudioConverterPipeline(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<RequestLimitsOptions>>().Value.TrustForwardedHeaders)
        {
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto, ForwardLimit = 1 };
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            app.UseForwardedHeaders(forwarded);
        }

        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseSignedLinks();
        app.UseApiKeyScopes();
        app.UseAuthorization();
        app.UseIdempotency();
        return app;
    }

    /// <summary>/health/live answers while the process runs; /health/ready only while its backends answer (503 otherwise).</summary>
    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResultStatusCodes = { [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
        });
        return app;
    }

    /// <summary>The OpenAPI document at /openapi/v1.json and its browsable form at /docs.</summary>
    public static WebApplication MapApiDocumentation(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapScalarApiReference("/docs", o => o.WithTitle("AudioConverter API").WithOpenApiRoutePattern("/openapi/{documentName}.json").DisableDefaultFonts());
        return app;
    }
}
