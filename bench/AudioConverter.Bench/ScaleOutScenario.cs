using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace AudioConverter.Bench;

/// <summary>
/// Scale-out efficiency (issue 13, item 4) on the distributed stack: PostgreSQL, RabbitMQ and s3rver, as started by
/// scripts/services.sh (AC_TEST_POSTGRES, AC_TEST_RABBITMQ, AC_TEST_S3_ENDPOINT), each run on a fresh database,
/// queue and bucket.
/// - Workers: a worker process is one unit of capacity, one conversion at a time (Worker:Concurrency 1) with ffmpeg
///   on one thread (Media:ThreadsPerConversion 1), so one worker uses about one core and two can use both of a
///   2-core machine. Every input is uploaded (stored, queued) before any worker starts, so the measured window holds
///   only the workers and the backends. Files/min counts F files over the same span for 1 and 2 workers: F + W files
///   are uploaded, and the span runs from the W-th processedAt (every worker has finished its first file: process
///   start, JIT and first connections are behind it) to the last. Each upload has bytes of its own
///   (DistinctMp3Content), so output reuse does not skip a conversion.
/// - APIs: 1 (or 2) API processes and no worker; U uploaders in a closed loop for S seconds, spread over the APIs.
/// Both report the CPU of each group of processes over the window (ProcessGroupCpu): where the machine went.
/// Usage: AudioConverter.Bench scaleout [--files 30] [--seconds 20] [--uploaders 16] [--input-seconds 180]
///        [--target opus] [--repeats 1] [--only workers|apis] [--server DLL]
/// </summary>
internal static class ScaleOutScenario
{
    private static readonly string[] Columns = ["workers", "ffmpeg", "API", "s3rver", "postgres", "rabbitmq", "bench", "rest of machine", "machine"];

    /// <summary>Every worker alike: the unit of capacity the efficiency is measured in.</summary>
    private static readonly (string Key, string Value)[] WorkerSettings =
    [
        ("Database__MigrateOnStart", "false"),
        ("Storage__S3__CreateBucket", "false"),
        ("Worker__Concurrency", "1"),
        ("Media__ThreadsPerConversion", "1"),
        ("Media__Niceness", "0"),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var files = Option(args, "--files", 30);
        var seconds = Option(args, "--seconds", 20);
        var uploaders = Option(args, "--uploaders", 16);
        var inputSeconds = Option(args, "--input-seconds", 180);
        var repeats = Option(args, "--repeats", 1);
        var target = Text(args, "--target") ?? "opus";
        var only = Text(args, "--only"); // "workers" or "apis": one half alone

        var dll = Path.GetFullPath(Text(args, "--server") ?? Path.Combine("src", "AudioConverter.Server", "bin", "Release", "net10.0", "AudioConverter.Server.dll"));

        using var fixtures = new AudioFixtures();
        var mp3 = await File.ReadAllBytesAsync(await fixtures.Mp3Async(inputSeconds, CancellationToken.None));
        var setup = ScaleOutSetup.FromEnvironment(dll, mp3, target);
        BenchContext.Say($"scaleout: {inputSeconds} s MP3 ({mp3.Length} bytes) -> {target}; {files} files counted a run, {repeats} run(s) each; backends {setup.Describe()}; load {Load()}");

        var workerRuns = new Dictionary<int, List<ScaleOutRun>> { [1] = [], [2] = [] };
        var uploadRuns = new Dictionary<int, List<ScaleOutRun>> { [1] = [], [2] = [] };
        for (var repeat = 0; repeat < repeats && only != "apis"; repeat++)
        {
            // 1 then 2 in each repeat, so a change of the machine's load over the runs falls on both.
            foreach (var workers in new[] { 1, 2 })
            {
                var run = await WorkersAsync(setup, workers, files);
                workerRuns[workers].Add(run);
                BenchContext.Say($"  {workers} worker process(es): {run.Rate:0.0} files/min ({files} files in {run.Seconds:0.0} s); cores {Cores(run)}; load {Load()}");
            }
        }

        for (var repeat = 0; repeat < repeats && only != "workers"; repeat++)
        {
            foreach (var apis in new[] { 1, 2 })
            {
                var run = await UploadsAsync(setup, apis, uploaders, seconds);
                uploadRuns[apis].Add(run);
                BenchContext.Say($"  {apis} API process(es): {run.Rate:0.0} uploads/s; cores {Cores(run)}; load {Load()}");
            }
        }

        Report(workerRuns, uploadRuns, files);
        return 0;
    }

    private static async Task<ScaleOutRun> WorkersAsync(ScaleOutSetup setup, int workers, int files)
    {
        var stack = ScaleOutSetup.Stack();
        var servers = new List<ServerUnderTest>();
        try
        {
            var api = setup.Start(stack, "api", ("Database__MigrateOnStart", "true"));
            servers.Add(api);
            await api.WaitUntilReadyAsync(CancellationToken.None);
            using var client = new ServiceClient(api.BaseUrl);
            var users = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.NewUserAsync(null, CancellationToken.None)));
            await UploadAllAsync(client, users, files + workers, setup);

            // The workers start together, after every input is stored and queued; the sampler sees each from its start.
            var pids = new ConcurrentQueue<int>();
            await using var cpu = new ProcessGroupCpu(() => setup.Groups([api.Pid!.Value], [.. pids]));
            for (var i = 0; i < workers; i++)
            {
                var worker = setup.Start(stack, "worker", WorkerSettings);
                servers.Add(worker);
                pids.Enqueue(worker.Pid!.Value);
            }

            await Task.WhenAll(servers.Skip(1).Select(w => w.WaitUntilReadyAsync(CancellationToken.None)));

            // Polled once a second: the API and PostgreSQL are in the measured machine too.
            var tasks = await client.WaitForAllAsync(users, TimeSpan.FromMinutes(30), CancellationToken.None, TimeSpan.FromSeconds(1));
            if (tasks.Any(t => t.Status != "processed"))
            {
                throw new InvalidOperationException($"{tasks.Count(t => t.Status != "processed")} conversions failed: {tasks.First(t => t.Status != "processed").Error}");
            }

            var finished = tasks.Select(t => t.ProcessedAt!.Value.ToUniversalTime()).Order().ToList();
            var (from, to) = (finished[workers - 1], finished[^1]);
            var (_, cores) = cpu.Between(from, to);
            await client.DeleteAllAsync(users, TimeSpan.FromMinutes(2), CancellationToken.None);
            return new ScaleOutRun(files / (to - from).TotalMinutes, (to - from).TotalSeconds, files, cores);
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>The inputs of a worker run, eight uploads in flight, spread over the users; each with bytes of its own.</summary>
    private static async Task UploadAllAsync(ServiceClient client, UserSession[] users, int count, ScaleOutSetup setup)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var (id, status) = await client.UploadAsync(users[i % users.Length], DistinctMp3Content.Unique(setup.Mp3), "signal.mp3", setup.Target, CancellationToken.None);
                if (id is null)
                {
                    throw new InvalidOperationException($"An upload answered {(int)status}.");
                }
            }
        })));
    }

    private static async Task<ScaleOutRun> UploadsAsync(ScaleOutSetup setup, int apis, int uploaders, int seconds)
    {
        var stack = ScaleOutSetup.Stack();
        var servers = new List<ServerUnderTest> { setup.Start(stack, "api", ("Database__MigrateOnStart", "true")) };
        try
        {
            await servers[0].WaitUntilReadyAsync(CancellationToken.None);
            for (var i = 1; i < apis; i++)
            {
                servers.Add(setup.Start(stack, "api", ("Database__MigrateOnStart", "false"), ("Storage__S3__CreateBucket", "false")));
            }

            await Task.WhenAll(servers.Skip(1).Select(s => s.WaitUntilReadyAsync(CancellationToken.None)));
            var clients = servers.Select(s => new ServiceClient(s.BaseUrl)).ToList();
            var users = await Task.WhenAll(Enumerable.Range(0, uploaders).Select(i => clients[i % clients.Count].NewUserAsync(null, CancellationToken.None)));

            // Warm-up: JIT and connection pools of every API, not measured.
            for (var i = 0; i < uploaders; i++)
            {
                await clients[i % clients.Count].UploadAsync(users[i], DistinctMp3Content.Unique(setup.Mp3), "warmup.mp3", setup.Target, CancellationToken.None);
            }

            await using var cpu = new ProcessGroupCpu(() => setup.Groups([.. servers.Select(s => s.Pid!.Value)], []));
            var accepted = 0;
            var from = DateTime.UtcNow;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, uploaders).Select(i => Task.Run(async () =>
            {
                while (watch.Elapsed.TotalSeconds < seconds)
                {
                    var (id, _) = await clients[i % clients.Count].UploadAsync(users[i], DistinctMp3Content.Unique(setup.Mp3), "signal.mp3", setup.Target, CancellationToken.None);
                    if (id is not null && watch.Elapsed.TotalSeconds < seconds)
                    {
                        Interlocked.Increment(ref accepted);
                    }
                }
            })));
            var (_, cores) = cpu.Between(from, from.AddSeconds(seconds));
            for (var i = 0; i < clients.Count; i++)
            {
                await clients[i].DeleteAllAsync(users.Where((_, u) => u % clients.Count == i), TimeSpan.FromMinutes(5), CancellationToken.None);
                clients[i].Dispose();
            }

            return new ScaleOutRun(accepted / (double)seconds, seconds, accepted, cores);
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>The rates (median run of each), then the CPU of each group in the median runs, absolute and per item.</summary>
    private static void Report(Dictionary<int, List<ScaleOutRun>> workerRuns, Dictionary<int, List<ScaleOutRun>> uploadRuns, int files)
    {
        var halves = new[] { ("worker", "workers", $" ({files} files)", "files/min", workerRuns), ("API", "APIs", "", "uploads/s", uploadRuns) }.Where(h => h.Item5[1].Count > 0).ToList();
        var rows = new List<(string Name, ScaleOutRun Run, double Scale)>();
        Console.WriteLine();
        Console.WriteLine("| processes | measured (median run) | runs | per process | added process against the first |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (one, two, what, unit, runs) in halves)
        {
            var (first, second) = (Median(runs[1]), Median(runs[2]));
            Console.WriteLine($"| 1 {one}{what} | {F(first.Rate, "0.0")} {unit} | {Runs(runs[1])} | {F(first.Rate, "0.0")} | |");
            Console.WriteLine($"| 2 {two}{what} | {F(second.Rate, "0.0")} {unit} | {Runs(runs[2])} | {F(second.Rate / 2, "0.0")} | {F((second.Rate - first.Rate) / first.Rate, "0.00")} |");
            // Per conversion in CPU-seconds, per upload in CPU-milliseconds.
            rows.Add(($"1 {one}", first, one == "API" ? 1000 : 1));
            rows.Add(($"2 {two}", second, one == "API" ? 1000 : 1));
        }

        Console.WriteLine();
        Console.WriteLine("Cores (CPU-seconds per second of the window) in the median runs:");
        Console.WriteLine($"| run | window s | {string.Join(" | ", Columns)} |");
        Console.WriteLine($"|---|---|{string.Concat(Columns.Select(_ => "---|"))}");
        foreach (var (name, run, _) in rows)
        {
            Console.WriteLine($"| {name} | {F(run.Seconds, "0.0")} | {string.Join(" | ", Columns.Select(c => run.Cores.TryGetValue(c, out var v) ? F(v, "0.00") : "n/a"))} |");
        }

        Console.WriteLine();
        Console.WriteLine("CPU-seconds per conversion (worker runs), CPU-milliseconds per upload (API runs):");
        Console.WriteLine($"| run | {string.Join(" | ", Columns)} |");
        Console.WriteLine($"|---|{string.Concat(Columns.Select(_ => "---|"))}");
        foreach (var (name, run, scale) in rows)
        {
            Console.WriteLine($"| {name} | {string.Join(" | ", Columns.Select(c => run.Cores.TryGetValue(c, out var v) ? F(v * run.Seconds / run.Items * scale, "0.000") : "n/a"))} |");
        }
    }

    private static string Runs(List<ScaleOutRun> runs) => string.Join(", ", runs.Select(r => F(r.Rate, "0.0")));

    private static ScaleOutRun Median(List<ScaleOutRun> runs) => runs.OrderBy(r => r.Rate).ElementAt(runs.Count / 2);

    private static string Cores(ScaleOutRun run) => string.Join(", ", Columns.Where(run.Cores.ContainsKey).Select(c => $"{c} {F(run.Cores[c], "0.00")}"));

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static int Option(string[] args, string name, int fallback) =>
        Text(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static string? Text(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

/// <summary>One measured run: its rate (files/min or uploads/s), its window, the items in it, and each group's cores.</summary>
internal sealed record ScaleOutRun(double Rate, double Seconds, int Items, Dictionary<string, double> Cores);
