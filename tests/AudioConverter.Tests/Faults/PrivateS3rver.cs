using System.Diagnostics;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// An s3rver of this test alone (the npm package scripts/services/s3rver.sh installs under .services/node) on a free
/// loopback port; stopping and starting it again keeps its buckets and objects. Killed and removed on dispose.
/// </summary>
public sealed class PrivateS3rver : IAsyncDisposable
{
    private readonly string directory;
    private Process? process;

    private PrivateS3rver(string directory, int port)
    {
        this.directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public static async Task<PrivateS3rver> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ac-faults-s3-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var s3 = new PrivateS3rver(directory, ServerProcess.FreePort());
        try
        {
            await s3.StartAgainAsync();
        }
        catch
        {
            await s3.DisposeAsync();
            throw;
        }

        return s3;
    }

    public async Task StartAgainAsync()
    {
        var bin = Path.Combine(ServerProcess.RepositoryRoot(), ".services", "node", "node_modules", ".bin", "s3rver");
        if (!File.Exists(bin))
        {
            throw new FileNotFoundException($"{bin} is missing; scripts/services/s3rver.sh start installs it (./test.sh runs it).", bin);
        }

        process = ExternalCommand.StartBackground(bin, ["-d", directory, "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-s"]);
        await Deadline.UntilAsync(() => ExternalCommand.Listening(Port) || process.HasExited, TimeSpan.FromSeconds(30), $"s3rver to listen on port {Port}");
        if (process.HasExited)
        {
            throw new InvalidOperationException($"s3rver exited with {process.ExitCode} before it listened on port {Port}.");
        }
    }

    /// <summary>Kills the server: connections are refused until it starts again.</summary>
    public async Task StopAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        process = null;
        await Deadline.UntilAsync(() => !ExternalCommand.Listening(Port), TimeSpan.FromSeconds(10), $"s3rver to stop listening on port {Port}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
