using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Data;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Hosting;

/// <summary>Before serving: the database reachable and migrated (by the API role), the bucket and queue or topic ready.</summary>
public static class BackendInitialization
{
    public static async Task InitializeBackendsAsync(this WebApplication app, HostingOptions roles)
    {
        var database = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var wait = app.Services.GetRequiredService<IOptions<StartupOptions>>().Value.BackendWait;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AudioConverter.Database");
        try
        {
            await DatabaseInitializer.InitializeAsync(app.Services, database.MigrateOnStart && roles.RunsApi, wait, logger, app.Lifetime.ApplicationStopping);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or ArgumentException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new BackendUnreachableException($"Database:ConnectionString: {BackendStartup.Describe(e)}", e);
        }

        // Bucket, queue or topic: wait for them as for the database (a restarted process, containers started in any
        // order), creating them when configured to.
        await BackendStartup.EnsureReadyAsync(app.Services, wait, logger, app.Lifetime.ApplicationStopping);
    }
}
