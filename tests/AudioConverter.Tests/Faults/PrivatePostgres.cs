using Npgsql;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// A throwaway PostgreSQL 15 cluster of this test alone, on a free loopback port, that the test may stop and start
/// again (the shared server of scripts/services.sh is never touched). Removed with its files on dispose.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string directory;

    private PrivatePostgres(string directory, int port)
    {
        this.directory = directory;
        Port = port;
    }

    public int Port { get; }

    public static async Task<PrivatePostgres> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ac-faults-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var postgres = new PrivatePostgres(directory, ServerProcess.FreePort());
        try
        {
            await ExternalCommand.RunAsync("chown", ["postgres:postgres", directory]);
            await AsPostgresAsync(Path.Combine(Bin, "initdb"), "-D", directory, "-U", "postgres", "--auth=trust", "-E", "UTF8");
            await postgres.StartAgainAsync();
        }
        catch
        {
            await postgres.DisposeAsync();
            throw;
        }

        return postgres;
    }

    /// <summary>A connection string to a database of this cluster (created by the server's migrations when missing).</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Password = "postgres", Database = database }.ConnectionString;

    // synchronous_commit stays on: an immediate stop must not take back a commit the server already acknowledged.
    public Task StartAgainAsync() => AsPostgresAsync(Path.Combine(Bin, "pg_ctl"), "-D", directory, "-l", Path.Combine(directory, "server.log"),
        "-o", $"-p {Port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off",
        "-w", "-t", "60", "start");

    /// <summary>Stops the server the way a crash does: every connection drops at once.</summary>
    public Task StopAsync() => AsPostgresAsync(Path.Combine(Bin, "pg_ctl"), "-D", directory, "-m", "immediate", "-w", "stop");

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(directory, "postmaster.pid")))
        {
            try
            {
                await StopAsync();
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }

        Directory.Delete(directory, recursive: true);
    }

    private static Task<string> AsPostgresAsync(params string[] command) =>
        ExternalCommand.RunAsync("runuser", ["-u", "postgres", "--", .. command]);
}
