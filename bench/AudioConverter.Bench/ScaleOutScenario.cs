using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AudioConverter.Bench;

/// <summary>
/// Scale-out efficiency (issue 13, item 4) on the distributed stack: PostgreSQL, RabbitMQ and s3rver, as started by
/// scripts/services.sh (AC_TEST_POSTGRES, AC_TEST_RABBITMQ, AC_TEST_S3_ENDPOINT).
/// - Workers: 1 (or 2) worker processes with one conversion each, then a burst of N uploads queued much faster than
///   it is converted; files/min = N over the span from the first claim to the last processedAt.
/// - APIs: 1 (or 2) API processes and no worker; U uploaders in a closed loop for S seconds, spread over the APIs.
/// Usage: AudioConverter.Bench scaleout [--files 60] [--seconds 20] [--uploaders 16] [--input-seconds 180] [--server DLL]
/// </summary>
internal static class ScaleOutScenario
{
    public static async Task<int> RunAsync(string[] args)
    {
        var files = Option(args, "--files", 60);
        var seconds = Option(args, "--seconds", 20);
        var uploaders = Option(args, "--uploaders", 16);
        var inputSeconds = Option(args, "--input-seconds", 180);
        var dll = Path.GetFullPath(args.SkipWhile(a => a != "--server").Skip(1).FirstOrDefault() ?? Path.Combine("src", "AudioConverter.Server", "bin", "Release", "net10.0", "AudioConverter.Server.dll"));
        var backends = new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["Queue__Provider"] = "RabbitMq",
            ["Queue__RabbitMq__Uri"] = Require("AC_TEST_RABBITMQ"),
            ["Storage__Provider"] = "S3",
            ["Storage__S3__ServiceUrl"] = Require("AC_TEST_S3_ENDPOINT"),
            ["Storage__S3__AccessKey"] = "S3RVER",
            ["Storage__S3__SecretKey"] = "S3RVER",
            ["Storage__S3__CreateBucket"] = "true",
            ["RateLimits__AuthPermitsPerMinute"] = "1000000",
            ["Auth__SigningKey"] = "bench-scaleout-signing-key-" + Guid.NewGuid().ToString("N"),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var postgres = Require("AC_TEST_POSTGRES");

        using var fixtures = new AudioFixtures();
        var mp3 = await File.ReadAllBytesAsync(await fixtures.Mp3Async(inputSeconds, CancellationToken.None));
        BenchContext.Say($"scaleout: {inputSeconds} s MP3 ({mp3.Length} bytes) -> wav; load {Load()}");

        var workerRates = new Dictionary<int, double>();
        foreach (var workers in new[] { 1, 2 })
        {
            workerRates[workers] = await WorkersAsync(dll, Stack(backends, postgres), workers, files, mp3);
            BenchContext.Say($"  {workers} worker process(es): {workerRates[workers]:0.0} files/min; load {Load()}");
        }

        var uploadRates = new Dictionary<int, double>();
        foreach (var apis in new[] { 1, 2 })
        {
            uploadRates[apis] = await UploadsAsync(dll, Stack(backends, postgres), apis, uploaders, seconds, mp3);
            BenchContext.Say($"  {apis} API process(es): {uploadRates[apis]:0.0} uploads/s; load {Load()}");
        }

        Console.WriteLine();
        Console.WriteLine("| processes | measured | per process | efficiency of the added one |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 1 worker (1 conversion at a time) | {workerRates[1]:0.0} files/min | {workerRates[1]:0.0} | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 2 workers | {workerRates[2]:0.0} files/min | {workerRates[2] / 2:0.0} | {(workerRates[2] - workerRates[1]) / workerRates[1]:0.00} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 1 API | {uploadRates[1]:0.0} uploads/s | {uploadRates[1]:0.0} | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 2 APIs | {uploadRates[2]:0.0} uploads/s | {uploadRates[2] / 2:0.0} | {(uploadRates[2] - uploadRates[1]) / uploadRates[1]:0.00} |"));
        return 0;
    }

    private static async Task<double> WorkersAsync(string dll, Dictionary<string, string> stack, int workers, int files, byte[] mp3)
    {
        await using var api = await Server.StartAsync(dll, "api", stack, ("Database__MigrateOnStart", "true"));
        using var client = new ServiceClient(api.BaseUrl);
        var users = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.NewUserAsync(null, CancellationToken.None)));
        var started = new List<Server>();
        try
        {
            for (var i = 0; i < workers; i++)
            {
                started.Add(await Server.StartAsync(dll, "worker", stack, ("Database__MigrateOnStart", "false"), ("Storage__S3__CreateBucket", "false"), ("Worker__Concurrency", "1")));
            }

            // The workers start before the burst (s3rver answered their start-up check with an internal error once
            // the bucket held objects). The burst is queued far faster than it is converted, so the workers stay
            // busy from the first claim to the last outcome, the span measured.
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < files)
                {
                    var (id, status) = await client.UploadAsync(users[i % users.Length], DistinctMp3Content.Unique(mp3), "signal.mp3", "wav", CancellationToken.None);
                    if (id is null)
                    {
                        throw new InvalidOperationException($"An upload answered {(int)status}.");
                    }
                }
            })));

            var tasks = await client.WaitForAllAsync(users, TimeSpan.FromMinutes(10), CancellationToken.None);
            if (tasks.Any(t => t.Status != "processed"))
            {
                throw new InvalidOperationException($"{tasks.Count(t => t.Status != "processed")} conversions failed.");
            }

            var span = tasks.Max(t => t.ProcessedAt!.Value) - tasks.Min(t => t.StartedAt!.Value);
            await client.DeleteAllAsync(users, TimeSpan.FromMinutes(2), CancellationToken.None);
            return files / span.TotalMinutes;
        }
        finally
        {
            foreach (var worker in started)
            {
                await worker.DisposeAsync();
            }
        }
    }

    private static async Task<double> UploadsAsync(string dll, Dictionary<string, string> stack, int apis, int uploaders, int seconds, byte[] mp3)
    {
        var servers = new List<Server> { await Server.StartAsync(dll, "api", stack, ("Database__MigrateOnStart", "true")) };
        try
        {
            for (var i = 1; i < apis; i++)
            {
                servers.Add(await Server.StartAsync(dll, "api", stack, ("Database__MigrateOnStart", "false"), ("Storage__S3__CreateBucket", "false")));
            }

            var clients = servers.Select(s => new ServiceClient(s.BaseUrl)).ToList();
            var users = await Task.WhenAll(Enumerable.Range(0, uploaders).Select(i => clients[i % clients.Count].NewUserAsync(null, CancellationToken.None)));

            // Warm-up: JIT and connection pools of every API, not measured.
            for (var i = 0; i < uploaders; i++)
            {
                await clients[i % clients.Count].UploadAsync(users[i], new ByteArrayContent(mp3), "warmup.mp3", "wav", CancellationToken.None);
            }

            var accepted = 0;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, uploaders).Select(i => Task.Run(async () =>
            {
                while (watch.Elapsed.TotalSeconds < seconds)
                {
                    var (id, _) = await clients[i % clients.Count].UploadAsync(users[i], new ByteArrayContent(mp3), "signal.mp3", "wav", CancellationToken.None);
                    if (id is not null && watch.Elapsed.TotalSeconds < seconds)
                    {
                        Interlocked.Increment(ref accepted);
                    }
                }
            })));
            var rate = accepted / (double)seconds;
            for (var i = 0; i < clients.Count; i++)
            {
                await clients[i].DeleteAllAsync(users.Where((_, u) => u % clients.Count == i), TimeSpan.FromMinutes(5), CancellationToken.None);
                clients[i].Dispose();
            }

            return rate;
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>A fresh database, queue and bucket for one measurement.</summary>
    private static Dictionary<string, string> Stack(Dictionary<string, string> backends, string postgres)
    {
        var name = "bench-scale-" + Guid.NewGuid().ToString("N")[..12];
        return new Dictionary<string, string>(backends)
        {
            ["Database__ConnectionString"] = $"{postgres};Database={name.Replace('-', '_')}",
            ["Queue__RabbitMq__QueueName"] = name,
            ["Storage__S3__Bucket"] = name,
        };
    }

    private static int Option(string[] args, string name, int fallback) =>
        args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static string Require(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{variable} is not set: run scripts/services.sh start and source .services/env first.");

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>One server process in a role, on a free loopback port, killed (with its children) on dispose.</summary>
    private sealed class Server(Process process, string baseUrl, string temp) : IAsyncDisposable
    {
        public string BaseUrl => baseUrl;

        public static async Task<Server> StartAsync(string dll, string role, Dictionary<string, string> stack, params (string Key, string Value)[] extra)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            var temp = Directory.CreateTempSubdirectory("audioconverter-scaleout-").FullName;
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)!, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(dll);
            foreach (var (key, value) in stack)
            {
                start.Environment[key] = value;
            }

            start.Environment["Role"] = role;
            start.Environment["Urls"] = $"http://127.0.0.1:{port}";
            start.Environment["Worker__TempPath"] = temp;
            start.Environment["Auth__SigningKeyPath"] = Path.Combine(temp, "jwt.key");
            foreach (var (key, value) in extra)
            {
                start.Environment[key] = value;
            }

            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine($"[{role}] {e.Data}"); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new Server(process, $"http://127.0.0.1:{port}", temp);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    if ((await http.GetAsync(server.BaseUrl + "/health/ready")).StatusCode == HttpStatusCode.OK)
                    {
                        return server;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet.
                }

                if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(90))
                {
                    await server.DisposeAsync();
                    throw new InvalidOperationException($"The {role} process did not become ready.");
                }

                await Task.Delay(100);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
            Directory.Delete(temp, recursive: true);
        }
    }
}
