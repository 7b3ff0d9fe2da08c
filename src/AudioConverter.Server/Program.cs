using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Notifications;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Infrastructure.Storage;
using AudioConverter.Server.Admission;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Conversion;
using AudioConverter.Server.Events;
using AudioConverter.Server.Files;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Idempotency;
using AudioConverter.Server.Keys;
using AudioConverter.Server.Notifications;
using AudioConverter.Server.Presets;
using AudioConverter.Server.Tasks;
using AudioConverter.Server.Telemetry;
using AudioConverter.Server.Webhooks;
using AudioConverter.Server.Worker;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = StartupPaths.ContentRoot(args) });
try
{
    var configuration = builder.Configuration;
    var services = builder.Services;

    // Where it listens (--urls, ASPNETCORE_URLS, PORT, else http://127.0.0.1:8080) and where relative data paths point (DataRoot).
    builder.ChooseListenAddresses();
    StartupPaths.Resolve(configuration, builder.Environment.ContentRootPath);

    // Roles: api, worker or both (the default), from --role or Role.
    var roles = services.AddRoles(configuration);

    // Settings: one class per section with its defaults, checked at start; a wrong value stops the program with one
    // line naming the key. The infrastructure's sections are registered with their adapters below.
    services.AddSettings<AuthOptions, AuthOptionsRules>(configuration, AuthOptions.Section);
    services.AddSettings<RateLimitOptions>(configuration, RateLimitOptions.Section);
    services.AddSettings<RequestLimitsOptions>(configuration, RequestLimitsOptions.Section);
    services.AddSettings<UploadOptions>(configuration, UploadOptions.Section);
    services.AddSettings<AdmissionOptions>(configuration, AdmissionOptions.Section);
    services.AddSettings<EventsOptions>(configuration, EventsOptions.Section);
    services.AddSettings<WorkerOptions>(configuration, WorkerOptions.Section);
    services.AddSettings<StartupOptions>(configuration, StartupOptions.Section);

    // Infrastructure: one adapter per port, picked by its section's Provider; only the chosen adapter's settings are read.
    services.AddSingleton(TimeProvider.System);
    services.AddDatabase(configuration);
    services.AddBlobStore(configuration);
    services.AddTaskQueue(configuration, new SplitRolesNeedASharedQueue(roles));
    services.AddMediaConverter(configuration);
    services.AddMail(configuration);
    services.AddWebhooks(configuration);

    // HTTP: connection limits, problem+json errors, health checks, OpenAPI; traces and metrics for every role.
    services.AddHttpServices();
    builder.AddAudioConverterTelemetry(roles);

    // Authentication: a login's JWT or an API key; limits on logins and signups.
    services.AddTokenAuthentication();

    // The API role's background services: the live event feed, the pruning of idempotency records.
    if (roles.RunsApi)
    {
        services.AddSingleton<EventFeed>();
        services.AddHostedService(provider => provider.GetRequiredService<EventFeed>());
        services.AddHostedService<IdempotencyPruner>();
        services.AddSingleton<AudioConverter.Server.Tasks.SqliteTaskListStatements>();
        services.AddSingleton<AudioConverter.Server.Tasks.TaskListCache>();
    }

    // The worker role: conversion loops, the sweeper, the storage janitor, the outbox (webhooks and e-mail).
    if (roles.RunsWorker)
    {
        services.AddWorkerServices(roles);
    }

    var app = builder.Build();

    // Start-up: every setting checked before anything runs (one line, here, not in the host's own log), the port
    // free, the database migrated and the bucket and queue ready.
    app.Services.GetRequiredService<IStartupValidator>().Validate();
    ListenAddresses.EnsureFree(app.Configuration);
    await app.InitializeBackendsAsync(roles);

    // The pipeline: forwarded headers (when trusted), security headers, errors, the page, authentication, idempotency.
    app.UseAudioConverterPipeline();

    // Routes: health and metrics in every role, the API in the api role.
    app.MapHealthEndpoints();
    app.MapAudioConverterTelemetry();
    if (roles.RunsApi)
    {
        app.MapApiDocumentation();
        app.MapAuthEndpoints();
        app.MapAccountEndpoints();
        app.MapKeyEndpoints();
        app.MapTaskEndpoints();
        app.MapFileEndpoints();
        app.MapSignedLinkEndpoints();
        app.MapArchiveEndpoints();
        app.MapFormatEndpoints();
        app.MapPresetEndpoints();
        app.MapWaveformEndpoints();
        app.MapEventEndpoints();
        app.MapWebhookEndpoints();
    }

    await app.RunAsync();
    return 0;
}
catch (Exception e) when (StartupErrors.Describe(e) is { } message)
{
    // A wrong setting, an unreachable backend or a taken port gets one line that names it, not a stack trace.
    await Console.Error.WriteLineAsync($"AudioConverter cannot start: {message}");
    return 2;
}

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
