using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AudioConverter.Bench;

/// <summary>
/// A server process the bench measures: one it starts (`dotnet AudioConverter.Server.dll` on a free loopback port,
/// configured by environment variables, with a temp data folder deleted at the end), or an external one given by URL.
/// Every bench scenario starts its servers here, so the settings a started server gets are written once: the embedded
/// defaults below, the distributed stack's backends (<see cref="DistributedSettings"/>), then the caller's own.
/// </summary>
internal sealed class ServerUnderTest : IAsyncDisposable
{
    private readonly Process? process;
    private readonly string? dataFolder;
    private readonly string role;
    private bool stopping;

    private ServerUnderTest(string baseUrl, int? pid, Process? process, string? dataFolder, string stack, string role)
    {
        Stack = stack;
        BaseUrl = baseUrl;
        Pid = pid;
        this.process = process;
        this.dataFolder = dataFolder;
        this.role = role;
    }

    public string BaseUrl { get; }

    public int? Pid { get; }

    public bool Started => process is not null;

    /// <summary>The SQLite file of a server the bench started on the embedded stack; null otherwise.</summary>
    public string? SqlitePath => dataFolder is not null && Stack == "embedded" ? Path.Combine(dataFolder, "audioconverter.db") : null;

    /// <summary>"embedded" (SQLite, local disk, in-process queue) or "distributed" (PostgreSQL, S3, RabbitMQ).</summary>
    public string Stack { get; }

    public string Description => Started
        ? $"started by the bench: dotnet AudioConverter.Server.dll (pid {Pid}), {(Stack == "distributed" ? "PostgreSQL + S3 (s3rver) + RabbitMQ, from .services/env" : "SQLite + local disk + in-process queue")}, data in a temp folder, RateLimits__AuthPermitsPerMinute and RateLimits__LoginsPerMinute=1000000"
        : $"external server at {BaseUrl}" + (Pid is null ? " (no pid given: no memory/CPU figures)" : $" (pid {Pid})");

    public static ServerUnderTest External(string url, int? pid) => new(url, pid, null, null, "embedded", "external");

    /// <summary>
    /// Starts the server on <paramref name="stack"/> (a database, queue and bucket of its own on the distributed one)
    /// and waits until it is ready; <paramref name="overrides"/> are extra environment settings (Role=api, ...).
    /// </summary>
    public static async Task<ServerUnderTest> StartAsync(string dllPath, string stack, IReadOnlyDictionary<string, string>? overrides, CancellationToken cancellationToken)
    {
        var settings = stack == "distributed" ? DistributedSettings("bench-" + Guid.NewGuid().ToString("N")[..12]) : [];
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var server = Launch(dllPath, stack, settings);
        try
        {
            await server.WaitUntilReadyAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts the server process with <paramref name="settings"/> over the embedded defaults, without waiting for it:
    /// the scale-out bench starts several workers together and needs their pids at once.
    /// </summary>
    public static ServerUnderTest Launch(string dllPath, string stack, IReadOnlyDictionary<string, string> settings)
    {
        var dll = Path.GetFullPath(dllPath);
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The server is not built at '{dll}'; run `dotnet build AudioConverter.slnx -c Release` or pass --server PATH.");
        }

        var port = FreePort();
        var data = Directory.CreateTempSubdirectory("audioconverter-bench-").FullName;
        var start = new ProcessStartInfo("dotnet")
        {
            // The server's own folder holds appsettings.json; every path in it is overridden below.
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["Database__Provider"] = "Sqlite",
            ["Storage__Provider"] = "LocalDisk",
            ["Queue__Provider"] = "InProcess",
            ["Database__ConnectionString"] = $"Data Source={Path.Combine(data, "audioconverter.db")}",
            ["Storage__LocalPath"] = Path.Combine(data, "blobs"),
            ["Auth__SigningKeyPath"] = Path.Combine(data, "jwt-signing.key"),
            ["Worker__TempPath"] = Path.Combine(data, "work"),
            // Every bench user signs up and logs in from 127.0.0.1; the default of 60 a minute would refuse most.
            ["RateLimits__AuthPermitsPerMinute"] = "1000000",
            ["RateLimits__LoginsPerMinute"] = "1000000",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        var server = new ServerUnderTest($"http://127.0.0.1:{port}", process.Id, process, data, stack, environment.GetValueOrDefault("Role", "server"));
        server.KeepLog(process, Path.Combine(data, "server.log"));

        // A bench stopped by a signal (test.sh's timeout) must not leave its server running.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        };
        return server;
    }

    /// <summary>Until /health/ready answers 200; throws with the log's tail when the process ends or 90 s pass.</summary>
    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (process is null || process.HasExited)
            {
                await Task.Delay(200, cancellationToken);
                throw new InvalidOperationException($"The {role} process exited with code {process?.ExitCode} at start:\n{LogTail()}");
            }

            try
            {
                using var response = await http.GetAsync($"{BaseUrl}/health/ready", cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Slow first answer.
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"The {role} process did not become ready within 90 s:\n{LogTail()}");
    }

    public string LogTail()
    {
        if (dataFolder is null)
        {
            return "";
        }

        try
        {
            using var stream = new FileStream(Path.Combine(dataFolder, "server.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var lines = reader.ReadToEnd().Split('\n');
            return string.Join('\n', lines.TakeLast(40));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Bytes the server's data folder holds now (blobs, database, work files); null for an external server.</summary>
    public long? DataBytes()
    {
        if (dataFolder is null || !Directory.Exists(dataFolder))
        {
            return null;
        }

        return new DirectoryInfo(dataFolder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f =>
        {
            try
            {
                return f.Length;
            }
            catch (IOException)
            {
                return 0;
            }
        });
    }

    /// <summary>Non-null when a server the bench started has exited without being asked to.</summary>
    public string? UnexpectedExit => process is { HasExited: true } && !stopping ? $"The server exited on its own with code {process.ExitCode}." : null;

    /// <summary>Keeps the server's log next to the report.</summary>
    public void CopyLogTo(string folder)
    {
        if (dataFolder is not null && File.Exists(Path.Combine(dataFolder, "server.log")))
        {
            File.Copy(Path.Combine(dataFolder, "server.log"), Path.Combine(folder, "server.log"), overwrite: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        stopping = true;
        if (process is not null)
        {
            if (!process.HasExited)
            {
                // SIGTERM first: the host shuts down cleanly, then a kill if it hangs.
                using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                    await term.WaitForExitAsync();
                }

                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(40));
                try
                {
                    await process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }

            process.Dispose();
        }

        if (dataFolder is not null)
        {
            try
            {
                Directory.Delete(dataFolder, recursive: true);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"Could not delete the temp data folder {dataFolder}: {e.Message}");
            }
        }
    }

    /// <summary>
    /// PostgreSQL, RabbitMQ and s3rver from the AC_TEST_* variables of .services/env (scripts/services.sh start), with
    /// the database, queue and bucket <paramref name="name"/> (lower case and hyphens), so other users of the shared
    /// services are not disturbed. Servers given the same name share one installation.
    /// </summary>
    public static Dictionary<string, string> DistributedSettings(string name) => new()
    {
        ["Database__Provider"] = "Postgres",
        ["Database__ConnectionString"] = RequiredVariable("AC_TEST_POSTGRES") + ";Database=" + name.Replace('-', '_'),
        ["Queue__Provider"] = "RabbitMq",
        ["Queue__RabbitMq__Uri"] = RequiredVariable("AC_TEST_RABBITMQ"),
        ["Queue__RabbitMq__QueueName"] = name,
        ["Storage__Provider"] = "S3",
        ["Storage__S3__ServiceUrl"] = RequiredVariable("AC_TEST_S3_ENDPOINT"),
        ["Storage__S3__Bucket"] = name,
        ["Storage__S3__AccessKey"] = "S3RVER",
        ["Storage__S3__SecretKey"] = "S3RVER",
        ["Storage__S3__CreateBucket"] = "true",
    };

    public static string RequiredVariable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
        ? value
        : throw new InvalidOperationException($"The distributed stack needs {name}: run `set -a; . .services/env; set +a` after scripts/services.sh start.");

    /// <summary>Both outputs to the data folder's server.log; standard error also to the bench's, marked with the role.</summary>
    private void KeepLog(Process server, string path)
    {
        var log = new StreamWriter(path) { AutoFlush = true };
        var logLock = new Lock();
        void Append(string? line, bool error)
        {
            if (line is null)
            {
                return;
            }

            lock (logLock)
            {
                log.WriteLine(line);
            }

            if (error)
            {
                Console.Error.WriteLine($"[{role}] {line}");
            }
        }

        server.OutputDataReceived += (_, e) => Append(e.Data, error: false);
        server.ErrorDataReceived += (_, e) => Append(e.Data, error: true);
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
