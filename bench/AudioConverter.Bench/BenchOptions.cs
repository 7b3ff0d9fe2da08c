using System.Globalization;

namespace AudioConverter.Bench;

/// <summary>The command line. Durations are per load level; counts are per burst.</summary>
internal sealed record BenchOptions
{
    public string? Url { get; init; }
    public string? ServerDll { get; init; }
    public int? ServerPid { get; init; }
    public string OutFolder { get; init; } = Path.Combine("bench-results", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
    public bool Smoke { get; init; }
    public double InputSeconds { get; init; } = 180;
    public double LevelSeconds { get; init; } = 25;
    public IReadOnlyList<int> UserLevels { get; init; } = [10, 30, 100];
    public int LightUploads { get; init; } = 20;
    public int ListingClients { get; init; } = 64;
    public IReadOnlyList<int> Bursts { get; init; } = [60, 300];
    public int BurstUploaders { get; init; } = 8;
    public int WorkerConcurrency { get; init; } = Environment.ProcessorCount;
    public long MemoryFileBytes { get; init; } = 500L * 1024 * 1024;
    public int MemoryClients { get; init; } = 20;
    public HashSet<string> Only { get; init; } = [];
    public string Stack { get; init; } = "embedded";
    public int CostClients { get; init; } = 30;
    public int CostUploads { get; init; } = 600;
    public double SoakMinutes { get; init; }
    public int SoakClients { get; init; } = 8;
    public int ReuseFiles { get; init; } = 10;
    public int LoudnessFiles { get; init; } = 10;

    public bool Runs(string scenario) => scenario == "soak" ? SoakMinutes > 0 : Only.Count == 0 || Only.Contains(scenario);

    public const string Usage = """
        AudioConverter.Bench: capacity benchmark of the AudioConverter HTTP API and worker.

          --server PATH          start `dotnet PATH` (AudioConverter.Server.dll) with a temp data dir (default:
                                 src/AudioConverter.Server/bin/Release/net10.0/AudioConverter.Server.dll)
          --url URL              drive a running server instead (set RateLimits__AuthPermitsPerMinute and RateLimits__LoginsPerMinute high on it)
          --pid PID              with --url: the server's process id, to sample its memory and CPU
          --out DIR              report folder (default bench-results/<timestamp>)
          --smoke                tiny counts, a few seconds in all (used by test.sh)
          --input-seconds S      length of the generated MP3 (default 180: about 2.9 MB at 128 kbps)
          --level-seconds S      duration of each load level (default 25)
          --users 10,30,100      concurrent users of the upload levels
          --light N              uploads at 1 per second for the light-load level (default 20)
          --listing-clients N    concurrent clients for GET /api/tasks (default 64)
          --bursts 60,300        burst sizes for the worker scenario
          --worker-concurrency N the server's worker concurrency, for the ffmpeg baseline (default: core count)
          --memory-mb N          size of the WAV each memory-test client uploads (default 500)
          --memory-clients N     clients uploading it at once (default 20)
          --stack NAME           embedded (SQLite, local disk, in-process queue; default) or distributed
                                 (PostgreSQL, s3rver, RabbitMQ from the AC_TEST_* variables of .services/env)
          --cost-uploads N       uploads per side in the upload-cost scenario (default 600)
          --cost-clients N       clients uploading at once there (default 30)
          --soak-minutes M       also run the upload soak for M minutes (memory growth; off by default)
          --soak-clients N       clients of the soak (default 8)
          --reuse-files N        distinct uploads, then repeats of the first, in the reuse scenario (default 10)
          --loudness-files N     uploads asking for loudness normalisation in the loudness scenario (default 10)
          --only a,b             run only these scenarios: upload-cost, light, listing, listing-scale, web,
                                 worker, reuse, loudness, memory (soak runs only when asked: --soak-minutes)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        if (args.Contains("--smoke"))
        {
            options = options with
            {
                Smoke = true,
                InputSeconds = 20,
                LevelSeconds = 3,
                UserLevels = [3],
                LightUploads = 3,
                ListingClients = 4,
                Bursts = [3],
                MemoryFileBytes = 5L * 1024 * 1024,
                MemoryClients = 4,
                CostClients = 2,
                CostUploads = 6,
                ReuseFiles = 2,
                LoudnessFiles = 2,
            };
        }

        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            options = args[i] switch
            {
                "--smoke" => options,
                "--url" => options with { Url = Next().TrimEnd('/') },
                "--server" => options with { ServerDll = Next() },
                "--pid" => options with { ServerPid = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--out" => options with { OutFolder = Next() },
                "--input-seconds" => options with { InputSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--level-seconds" => options with { LevelSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--users" => options with { UserLevels = Ints(Next()) },
                "--light" => options with { LightUploads = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--listing-clients" => options with { ListingClients = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--bursts" => options with { Bursts = Ints(Next()) },
                "--worker-concurrency" => options with { WorkerConcurrency = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--memory-mb" => options with { MemoryFileBytes = long.Parse(Next(), CultureInfo.InvariantCulture) * 1024 * 1024 },
                "--memory-clients" => options with { MemoryClients = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--stack" => options with { Stack = Next() is var stack && stack is "embedded" or "distributed" ? stack : throw new ArgumentException("--stack is embedded or distributed.") },
                "--cost-uploads" => options with { CostUploads = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--cost-clients" => options with { CostClients = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--soak-minutes" => options with { SoakMinutes = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--soak-clients" => options with { SoakClients = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--reuse-files" => options with { ReuseFiles = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--loudness-files" => options with { LoudnessFiles = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--only" => options with { Only = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries)] },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
            };
        }

        return options;
    }

    private static int[] Ints(string text) => [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(t => int.Parse(t, CultureInfo.InvariantCulture))];
}
