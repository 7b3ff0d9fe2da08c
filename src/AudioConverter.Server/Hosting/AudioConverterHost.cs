using System.Threading.RateLimiting;
using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Files;
using AudioConverter.Server.Tasks;
using AudioConverter.Server.Worker;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Scalar.AspNetCore;

namespace AudioConverter.Server.Hosting;

/// <summary>What Program.cs lists: the services of each role, and the HTTP pipeline.</summary>
public static class AudioConverterHost
{
    public static HostingOptions AddAudioConverter(this WebApplicationBuilder builder)
    {
        var hosting = builder.Configuration.Get<HostingOptions>() ?? new HostingOptions();
        if (!hosting.IsValid)
        {
            throw new StartupConfigurationException($"Role '{hosting.Role}' is not valid; use --role api, --role worker or --role both.");
        }

        // App Engine and Cloud Run say which port to listen on through PORT.
        if (builder.Configuration["PORT"] is { Length: > 0 } port && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_URLS")))
        {
            builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
        }

        var services = builder.Services;
        services.AddSingleton(hosting);
        services.AddSingleton(TimeProvider.System);
        services.AddAudioConverterInfrastructure(builder.Configuration);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemDefaults.Describe);
        services.AddExceptionHandler<UnavailableExceptionHandler>();
        services.AddHealthChecks().AddCheck<ReadinessCheck>("backends", tags: ["ready"]);
        services.AddOptions<UploadOptions>().Bind(builder.Configuration.GetSection(UploadOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WorkerOptions>().Bind(builder.Configuration.GetSection(WorkerOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds((builder.Configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>()?.ShutdownGraceSeconds ?? 20) + 10));
        services.AddTokenAuthentication(builder.Configuration);
        services.AddOpenApi(OpenApiDocument.Configure);
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            var permits = builder.Configuration.GetValue("RateLimits:AuthPermitsPerMinute", 60);
            limiter.AddPolicy(AuthEndpoints.RateLimitPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "60";
                var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = Problems.Details(StatusCodes.Status429TooManyRequests, "Too many requests.", "Too many attempts from this address; wait a minute and try again.", Problems.TooManyRequestsType),
                });
            };
        });

        if (hosting.RunsWorker)
        {
            services.AddSingleton<TaskProcessor>();
            services.AddHostedService<ConversionWorker>();
            services.AddHostedService<Sweeper>();
        }

        return hosting;
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
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResultStatusCodes = { [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
        });

        if (hosting.RunsApi)
        {
            app.MapOpenApi();
            app.MapScalarApiReference("/docs", o => o.WithTitle("AudioConverter API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
            app.MapAuthEndpoints();
            app.MapTaskEndpoints();
            app.MapFileEndpoints();
            app.MapFormatEndpoints();
        }

        return app;
    }
}
