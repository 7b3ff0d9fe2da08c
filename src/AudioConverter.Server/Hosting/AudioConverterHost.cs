using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Notifications;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Events;
using AudioConverter.Server.Files;
using AudioConverter.Server.Idempotency;
using AudioConverter.Server.Keys;
using AudioConverter.Server.Notifications;
using AudioConverter.Server.Tasks;
using AudioConverter.Server.Telemetry;
using AudioConverter.Server.Webhooks;
using AudioConverter.Server.Worker;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Scalar.AspNetCore;

namespace AudioConverter.Server.Hosting;

/// <summary>What Program.cs lists: the services of each role, and the HTTP pipeline.</summary>
public static class AudioConverterHost
{
    private static readonly string[] StandardAddressKeys = ["urls", "http_ports", "https_ports"];

    public static HostingOptions AddAudioConverter(this WebApplicationBuilder builder)
    {
        var hosting = builder.Configuration.Get<HostingOptions>() ?? new HostingOptions();
        if (!hosting.IsValid)
        {
            throw new StartupConfigurationException($"Role '{hosting.Role}' is not valid; use --role api, --role worker or --role both.");
        }

        ChooseAddresses(builder);
        StartupPaths.Resolve(builder.Configuration, builder.Environment.ContentRootPath);

        // The in-process queue lives in one process: with split roles every task would wait for a sweeper that never
        // sees it. An API that deliberately converts nothing (a read-only front, a test) says so with Queue:InProcessWithoutWorker.
        if (!(hosting.RunsApi && hosting.RunsWorker)
            && (builder.Configuration["Queue:Provider"] ?? "InProcess").Equals("InProcess", StringComparison.OrdinalIgnoreCase)
            && !(hosting.RunsApi && builder.Configuration.GetValue("Queue:InProcessWithoutWorker", false)))
        {
            throw new StartupConfigurationException($"Role '{hosting.Role}' needs a shared queue: the in-process queue (Queue:Provider InProcess) only works with --role both; set Queue:Provider to RabbitMq or PubSub.");
        }

        var services = builder.Services;
        services.AddSingleton(hosting);
        services.AddSingleton(TimeProvider.System);
        services.AddAudioConverterInfrastructure(builder.Configuration);
        builder.AddAudioConverterTelemetry(hosting);

        // Conversions yield the CPU to requests when both run here (docs/capacity.md, "Uploads while converting").
        services.PostConfigure<Infrastructure.Media.MediaOptions>(o => o.Niceness = o.Niceness >= 0 ? o.Niceness : hosting.RunsApi && hosting.RunsWorker ? 10 : 0);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemDefaults.Describe);
        services.AddExceptionHandler<UnavailableExceptionHandler>();
        services.AddHealthChecks().AddCheck<ReadinessCheck>("backends", tags: ["ready"]);
        services.AddOptions<UploadOptions>().Bind(builder.Configuration.GetSection(UploadOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WorkerOptions>().Bind(builder.Configuration.GetSection(WorkerOptions.Section)).ValidateDataAnnotations().ValidateOnStart()
            .PostConfigure(o => o.InstanceId = WorkerInstance.Id(builder.Configuration));
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds((builder.Configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>()?.ShutdownGraceSeconds ?? 20) + 10));
        services.AddTokenAuthentication(builder.Configuration);
        services.AddOpenApi(OpenApiDocument.Configure);
        services.AddOptions<RateLimitOptions>().Bind(builder.Configuration.GetSection(RateLimitOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AuthAttemptLimiter>();
        services.AddSingleton(provider => new PasswordHashGate(provider.GetRequiredService<TimeProvider>()));
        services.AddOptions<RequestLimitsOptions>().Bind(builder.Configuration.GetSection(RequestLimitsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.WebHost.ConfigureKestrel(kestrel => ApplyLimits(kestrel.Limits, builder.Configuration.GetSection(RequestLimitsOptions.Section).Get<RequestLimitsOptions>() ?? new RequestLimitsOptions()));

        services.AddOptions<EventsOptions>().Bind(builder.Configuration.GetSection(EventsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WebhookOptions>().Bind(builder.Configuration.GetSection(WebhookOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(provider => new WebhookTargets(provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebhookOptions>>().Value));
        if (hosting.RunsApi)
        {
            services.AddSingleton<EventFeed>();
            services.AddHostedService(provider => provider.GetRequiredService<EventFeed>());
            services.AddHostedService<IdempotencyPruner>();
        }

        if (hosting.RunsWorker)
        {
            if (QueueTimeouts.Problem(builder.Configuration) is { } timeouts)
            {
                throw new StartupConfigurationException(timeouts);
            }

            // Webhooks and e-mail leave from the worker role: it runs wherever conversions run, so there is always one.
            services.AddSingleton(provider => new WebhookSender(
                provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebhookOptions>>().Value, provider.GetRequiredService<WebhookTargets>(), provider.GetRequiredService<TimeProvider>()));
            services.AddHostedService<OutboxDispatcher>();

            services.AddSingleton<TaskProcessor>();
            services.AddSingleton<LeftoverCleaner>();
            services.AddSingleton<ConversionWorker>();
            services.AddSingleton<Sweeper>();
            services.AddHostedService<StartsAfterTheServer<ConversionWorker>>();
            services.AddHostedService<StartsAfterTheServer<Sweeper>>();
            services.AddHostedService<StorageJanitor>();
        }

        return hosting;
    }

    /// <summary>
    /// Where to listen. The standard settings win: --urls, Urls or ASPNETCORE_URLS, then ASPNETCORE_HTTP_PORTS /
    /// HTTP_PORTS (and the HTTPS ones); then PORT, as App Engine and Cloud Run set it (all interfaces); then the default,
    /// http://127.0.0.1:8080. The default is applied here rather than in appsettings.json, where it would hide the standard settings.
    /// </summary>
    private static void ChooseAddresses(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var standard = StandardAddressKeys.Any(key => !string.IsNullOrWhiteSpace(configuration[key]));
        if (standard)
        {
            return;
        }

        builder.WebHost.UseUrls(configuration["PORT"] is { Length: > 0 } port ? $"http://0.0.0.0:{port}" : DefaultUrl);
    }

    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>Bounds what one connection may cost: header size and count, slow headers (slowloris), slow bodies.</summary>
    private static void ApplyLimits(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits limits, RequestLimitsOptions options)
    {
        limits.MaxRequestHeadersTotalSize = options.MaxRequestHeadersTotalBytes;
        limits.MaxRequestHeaderCount = options.MaxRequestHeaderCount;
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(options.RequestHeadersTimeoutSeconds);
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(options.KeepAliveTimeoutSeconds);
        limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(options.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(options.MinRequestBodyGraceSeconds));
    }

    public static async Task InitializeDatabaseAsync(this WebApplication app, HostingOptions hosting)
    {
        var database = app.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AudioConverter.Database");
        var migrate = database.MigrateOnStart && hosting.RunsApi;
        try
        {
            await DatabaseInitializer.InitializeAsync(app.Services, migrate, TimeSpan.FromSeconds(database.StartupTimeoutSeconds), logger, app.Lifetime.ApplicationStopping);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or ArgumentException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new BackendUnreachableException($"Database:ConnectionString: {BackendStartup.Describe(e)}", e);
        }

        // Bucket, queue or topic: wait a little for them (containers start in any order), creating them when configured to.
        await BackendStartup.EnsureReadyAsync(app.Services, TimeSpan.FromSeconds(30), logger, app.Lifetime.ApplicationStopping);
    }

    public static WebApplication UseAudioConverter(this WebApplication app, HostingOptions hosting)
    {
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RequestLimitsOptions>>().Value.TrustForwardedHeaders)
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
        Files.SignedLinks.UseSignedLinks(app);
        app.UseApiKeyScopes();
        app.UseAuthorization();
        app.UseIdempotency();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResultStatusCodes = { [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
        });

        app.MapAudioConverterTelemetry();
        if (hosting.RunsApi)
        {
            app.MapOpenApi();
            app.MapScalarApiReference("/docs", o => o.WithTitle("AudioConverter API").WithOpenApiRoutePattern("/openapi/{documentName}.json").DisableDefaultFonts());
            app.MapAuthEndpoints();
            app.MapTaskEndpoints();
            app.MapFileEndpoints();
            app.MapArchiveEndpoints();
            app.MapKeyEndpoints();
            Files.SignedLinks.MapSignedLinkEndpoints(app);
            Presets.PresetEndpoints.MapPresetEndpoints(app);
            app.MapFormatEndpoints();
            AudioConverter.Server.Conversion.WaveformEndpoints.MapWaveformEndpoints(app);
            app.MapEventEndpoints();
            app.MapWebhookEndpoints();
            app.MapAccountEndpoints();
        }

        return app;
    }
}
