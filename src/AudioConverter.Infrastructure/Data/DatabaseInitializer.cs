using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AudioConverter.Infrastructure.Data;

/// <summary>Applies migrations at start-up, or waits for another process to apply them.</summary>
public static partial class DatabaseInitializer
{
    public static async Task InitializeAsync(IServiceProvider services, bool migrate, TimeSpan waitForSchema, ILogger logger, CancellationToken cancellationToken)
    {
        var clock = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var started = clock.GetUtcNow();
        var deadline = started + waitForSchema;
        string? lastError = null;
        while (true)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            try
            {
                if (db.Database.IsSqlite())
                {
                    // WAL lets readers go on while one writer commits: several API and worker threads share the file.
                    await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
                }

                if (migrate)
                {
                    await db.Database.MigrateAsync(cancellationToken);
                    LogMigrated(logger);
                    return;
                }

                var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
                if (pending.Count == 0)
                {
                    return;
                }

                LogWaitingForSchema(logger, pending.Count);
            }
            catch (Exception e) when (e is not OperationCanceledException and not StartupConfigurationException)
            {
                lastError = e.Message;
                LogDatabaseNotReady(logger, (int)(clock.GetUtcNow() - started).TotalSeconds, (int)waitForSchema.TotalSeconds, e.Message);
            }

            if (clock.GetUtcNow() >= deadline)
            {
                throw new StartupConfigurationException(lastError is null
                    ? $"The database schema is not up to date and no process applied the migrations within {waitForSchema.TotalSeconds:F0} s (Startup:BackendWaitSeconds); start an API with Database:MigrateOnStart=true."
                    : $"The database could not be reached within {waitForSchema.TotalSeconds:F0} s (Startup:BackendWaitSeconds; check Database:ConnectionString): {lastError}");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), clock, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is up to date")]
    private static partial void LogMigrated(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting for {Count} migrations to be applied by another process")]
    private static partial void LogWaitingForSchema(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for Database:ConnectionString, {WaitedSeconds} s of {LimitSeconds} s (Startup:BackendWaitSeconds): {Reason}")]
    private static partial void LogDatabaseNotReady(ILogger logger, int waitedSeconds, int limitSeconds, string reason);
}
