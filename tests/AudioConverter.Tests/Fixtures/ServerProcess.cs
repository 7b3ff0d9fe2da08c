using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AudioConverter.Tests.Faults;

namespace AudioConverter.Tests.Fixtures;

/// <summary>
/// The built server (src/AudioConverter.Server/bin/{Configuration}/net10.0) as a real child process on a free
/// loopback port, configured by environment variables, with its own data folder. Always killed on dispose,
/// together with any ffmpeg it started that outlived it. The fault tests and the scale-out test share it.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly List<string> lines = [];
    private bool ownsDataDirectory;

    private ServerProcess(string name, Process process, string dataDirectory, int port)
    {
        Name = name;
        this.process = process;
        DataDirectory = dataDirectory;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public string Name { get; }

    public string DataDirectory { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public string BlobDirectory => Path.Combine(DataDirectory, "blobs");

    public string TempDirectory => Path.Combine(DataDirectory, "tmp");

    public string DatabasePath => Path.Combine(DataDirectory, "app.db");

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>The output so far, line by line.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (output)
            {
                return [.. lines];
            }
        }
    }

    public static string NewDataDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ac-faults", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Starts the server and waits until /health/live answers.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, IDictionary<string, string>? settings = null, int? port = null, TimeSpan? liveTimeout = null)
    {
        var server = Start("server", dataDirectory, settings, port);
        try
        {
            await server.WaitUntilLiveAsync(liveTimeout ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Starts the server in a role (api, worker or both) with a data folder of its own, without waiting for it.</summary>
    public static ServerProcess Start(string name, string role, IDictionary<string, string> settings, string? workingDirectory = null)
    {
        var server = Start(name, NewDataDirectory(), new Dictionary<string, string>(settings) { ["Role"] = role }, port: null, workingDirectory);
        server.ownsDataDirectory = true;
        return server;
    }

    private static ServerProcess Start(string name, string dataDirectory, IDictionary<string, string>? settings, int? port, string? workingDirectory = null)
    {
        var serverProject = Path.Combine(RepositoryRoot(), "src", "AudioConverter.Server");
        var dll = Path.Combine(serverProject, "bin", BuildConfiguration(), "net10.0", "AudioConverter.Server.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"Build the server first (dotnet build -c {BuildConfiguration()}): {dll} is missing.", dll);
        }

        // A PORT setting stands in for Urls, as App Engine and Cloud Run set it.
        var portSetting = settings is not null && settings.TryGetValue("PORT", out var portText) ? int.Parse(portText, System.Globalization.CultureInfo.InvariantCulture) : (int?)null;
        var chosenPort = port ?? portSetting ?? FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            // The project folder is the content root: appsettings.json and wwwroot are found there.
            WorkingDirectory = workingDirectory ?? serverProject,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Urls"] = $"http://127.0.0.1:{chosenPort}",
            ["Database__ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "app.db")}",
            ["Storage__LocalPath"] = Path.Combine(dataDirectory, "blobs"),
            ["Auth__SigningKeyPath"] = Path.Combine(dataDirectory, "jwt.key"),
            ["Worker__TempPath"] = Path.Combine(dataDirectory, "tmp"),
            ["Worker__SweepIntervalSeconds"] = "1",
            ["RateLimits__AuthPermitsPerMinute"] = "100000",
            ["RateLimits__LoginsPerMinute"] = "100000",
            ["Media__IdlePriority"] = "false", // as in AppFactory: the test run is not requests to yield to
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        // PORT and the standard ASP.NET Core variables stand in for Urls, which would win over them.
        if (portSetting is not null || environment.ContainsKey("ASPNETCORE_URLS") || environment.ContainsKey("ASPNETCORE_HTTP_PORTS"))
        {
            environment.Remove("Urls");
        }

        start.Environment.Remove("PORT");
        start.Environment.Remove("ASPNETCORE_URLS");
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        var server = new ServerProcess(name, process, dataDirectory, chosenPort);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Waits for the process to exit by itself and for its output to be read to the end; false on timeout.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Polls /health/ready until it answers 200: the backends this process needs answer too.</summary>
    public Task WaitUntilReadyAsync(TimeSpan timeout) => WaitUntilAsync("/health/ready", timeout);

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(100) };

    /// <summary>SIGKILL: the process gets no chance to clean up, exactly like a crash or an OOM kill.</summary>
    public void KillHard()
    {
        process.Kill(entireProcessTree: false);
        process.WaitForExit();
    }

    /// <summary>SIGTERM, then waits for the process to exit by itself; returns its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
        {
            await kill.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(deadline.Token);
        return process.ExitCode;
    }

    /// <summary>Processes (ffmpeg, ffprobe) whose command line mentions this server's data folder.</summary>
    public IReadOnlyList<int> ChildToolProcesses()
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == process.Id || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(DataDirectory, StringComparison.Ordinal) && !commandLine.Contains("AudioConverter.Server.dll", StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours.
            }
        }

        return found;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        // A child of a process killed with SIGKILL is not killed with it; end the ones this server started.
        foreach (var pid in ChildToolProcesses())
        {
            try
            {
                using var orphan = Process.GetProcessById(pid);
                orphan.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }

        process.Dispose();
        if (ownsDataDirectory && Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    /// <summary>
    /// A port free now, drawn below the kernel's ephemeral range. Tests stop listeners and start them again on the
    /// same port (a killed server, a restarted broker or database), and a port in the ephemeral range can be taken
    /// in between as the local end of any outgoing connection on the machine, or by a <c>rabbitmqctl</c> call
    /// (its own node listens on 35672-35682): the listener then fails with "address already in use".
    /// </summary>
    public static int FreePort()
    {
        var ephemeralLow = EphemeralPortsStart();
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(ephemeralLow - 12_000, ephemeralLow);
            if (port is 25672 or 15672)
            {
                continue; // the shared RabbitMQ node's distribution and management ports
            }

            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: draw again.
            }
        }

        throw new InvalidOperationException($"No free port found below {ephemeralLow} in 200 draws.");
    }

    private static int EphemeralPortsStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        var first = File.Exists(range) ? File.ReadAllText(range).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0] : "32768";
        return Math.Max(16_000, int.Parse(first, System.Globalization.CultureInfo.InvariantCulture));
    }

    private Task WaitUntilLiveAsync(TimeSpan timeout) => WaitUntilAsync("/health/live", timeout);

    private async Task WaitUntilAsync(string path, TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        await Deadline.UntilAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"{Name} exited with {process.ExitCode} before {path} answered:\n{Output}");
                }

                try
                {
                    return (await client.GetAsync(path)).StatusCode == HttpStatusCode.OK;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet, or starting slowly.
                    return false;
                }
            },
            answered => answered,
            timeout,
            _ => $"{Name} to answer {path} with 200:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
            lines.Add(line);
        }
    }

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AudioConverter.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No AudioConverter.slnx above {AppContext.BaseDirectory}.");
    }

    // The tests run from bin/{Configuration}/net10.0; start the server of the same build.
    private static string BuildConfiguration() => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
}
