using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// A RabbitMQ node of this test alone (its own node name, ports and database folder) that the test may stop and
/// start again; the shared node of scripts/services.sh is never touched. Shut down and removed on dispose.
/// </summary>
public sealed class PrivateRabbitMq : IAsyncDisposable
{
    private readonly string directory;
    private readonly Dictionary<string, string> environment;

    private PrivateRabbitMq(string directory, int port)
    {
        this.directory = directory;
        Port = port;
        NodeName = $"faults-{Environment.ProcessId}-{Path.GetFileName(directory)[^8..]}@localhost";
        environment = new Dictionary<string, string>
        {
            ["RABBITMQ_NODENAME"] = NodeName,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = ServerProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(directory, "log"),
            ["RABBITMQ_PID_FILE"] = PidFile,
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(directory, "enabled_plugins"),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
        };
    }

    public int Port { get; }

    public string NodeName { get; }

    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    private string PidFile => Path.Combine(directory, "rabbit.pid");

    public static async Task<PrivateRabbitMq> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ac-faults-mq-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path.Combine(directory, "mnesia"));
        Directory.CreateDirectory(Path.Combine(directory, "log"));
        await File.WriteAllTextAsync(Path.Combine(directory, "enabled_plugins"), "[].");
        var broker = new PrivateRabbitMq(directory, ServerProcess.FreePort());
        try
        {
            await ExternalCommand.RunAsync("chown", ["-R", "rabbitmq:rabbitmq", directory]);
            await broker.StartAgainAsync();
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }

        return broker;
    }

    /// <summary>Starts the node on its old database: durable queues and their messages come back.</summary>
    public async Task StartAgainAsync()
    {
        await ExternalCommand.RunAsync("rabbitmq-server", ["-detached"], environment);
        try
        {
            await ExternalCommand.RunAsync("rabbitmqctl", ["-n", NodeName, "wait", "--timeout", "60", PidFile], environment, TimeSpan.FromSeconds(90));
        }
        catch (InvalidOperationException e)
        {
            // rabbitmqctl says only "rabbit_is_not_running"; the node's own log says why, and the log goes with the folder.
            throw new InvalidOperationException($"RabbitMQ node {NodeName} did not start: {LastLoggedError()}\n{e.Message}", e);
        }

        await Deadline.UntilAsync(() => ExternalCommand.Listening(Port), TimeSpan.FromSeconds(30), $"RabbitMQ to listen on port {Port}");
    }

    private string LastLoggedError()
    {
        var errors = Directory.EnumerateFiles(Path.Combine(directory, "log"), "*.log")
            .SelectMany(File.ReadLines).Where(line => line.Contains("[error]", StringComparison.Ordinal)).ToList();
        var reason = errors.LastOrDefault(line => line.Contains("reason", StringComparison.Ordinal)) ?? errors.LastOrDefault();
        return reason is null ? "its log has no error" : reason[..Math.Min(reason.Length, 400)];
    }

    /// <summary>Shuts the whole node down: every connection closes and the port stops answering.</summary>
    public async Task StopAsync()
    {
        await ExternalCommand.RunAsync("rabbitmqctl", ["-n", NodeName, "shutdown"], environment, TimeSpan.FromSeconds(60));
        await Deadline.UntilAsync(() => !ExternalCommand.Listening(Port), TimeSpan.FromSeconds(30), $"RabbitMQ to stop listening on port {Port}");
    }

    public async ValueTask DisposeAsync()
    {
        if (ExternalCommand.Listening(Port))
        {
            try
            {
                await StopAsync();
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                // Kill what is left: the pid file names the node's Erlang VM.
                if (int.TryParse(File.ReadAllText(PidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture, out var pid))
                {
                    using var vm = System.Diagnostics.Process.GetProcessById(pid);
                    vm.Kill();
                }
            }
        }

        Directory.Delete(directory, recursive: true);
    }
}
