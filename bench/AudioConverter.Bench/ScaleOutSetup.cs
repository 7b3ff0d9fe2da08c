using System.Globalization;

namespace AudioConverter.Bench;

/// <summary>
/// What every scale-out run shares: the server, the input, the target, the shared backends' settings, and the
/// backends' own processes (found by the port each listens on) for the CPU figures.
/// </summary>
internal sealed class ScaleOutSetup
{
    private readonly Dictionary<string, string> backends;
    private readonly string postgres;
    private readonly (string Name, int? Pid)[] backendProcesses;

    private ScaleOutSetup(string dll, byte[] mp3, string target, Dictionary<string, string> backends, string postgres, (string, int?)[] backendProcesses)
    {
        Dll = dll;
        Mp3 = mp3;
        Target = target;
        this.backends = backends;
        this.postgres = postgres;
        this.backendProcesses = backendProcesses;
    }

    public string Dll { get; }

    public byte[] Mp3 { get; }

    public string Target { get; }

    public static ScaleOutSetup FromEnvironment(string dll, byte[] mp3, string target)
    {
        var rabbit = Require("AC_TEST_RABBITMQ");
        var s3 = Require("AC_TEST_S3_ENDPOINT");
        var postgres = Require("AC_TEST_POSTGRES");
        var backends = new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["Queue__Provider"] = "RabbitMq",
            ["Queue__RabbitMq__Uri"] = rabbit,
            ["Storage__Provider"] = "S3",
            ["Storage__S3__ServiceUrl"] = s3,
            ["Storage__S3__AccessKey"] = "S3RVER",
            ["Storage__S3__SecretKey"] = "S3RVER",
            ["Storage__S3__CreateBucket"] = "true",
            ["RateLimits__AuthPermitsPerMinute"] = "1000000",
            ["RateLimits__LoginsPerMinute"] = "1000000",
            ["Auth__SigningKey"] = "bench-scaleout-signing-key-" + Guid.NewGuid().ToString("N"),
            ["Logging__LogLevel__Default"] = "Warning",
        };

        // Several instances of each may run on the machine (the fault tests start their own): the ones these
        // URLs name are the processes listening on their ports; their descendants (PostgreSQL's backends) count too.
        (string, int?)[] processes =
        [
            ("s3rver", ProcessGroupCpu.ListenerOf(new Uri(s3).Port)),
            ("postgres", ProcessGroupCpu.ListenerOf(PostgresPort(postgres))),
            ("rabbitmq", ProcessGroupCpu.ListenerOf(new Uri(rabbit).Port)),
        ];
        return new ScaleOutSetup(dll, mp3, target, backends, postgres, processes);
    }

    /// <summary>A fresh database, queue and bucket for one measurement.</summary>
    public Dictionary<string, string> Stack()
    {
        var name = "bench-scale-" + Guid.NewGuid().ToString("N")[..12];
        return new Dictionary<string, string>(backends)
        {
            ["Database__ConnectionString"] = $"{postgres};Database={name.Replace('-', '_')}",
            ["Queue__RabbitMq__QueueName"] = name,
            ["Storage__S3__Bucket"] = name,
        };
    }

    /// <summary>
    /// The groups a run's CPU is charged to: the workers' own .NET time apart from the ffmpeg and ffprobe runs they
    /// start, the API processes with anything they start, each backend, and the bench itself.
    /// </summary>
    public IReadOnlyList<ProcessGroup> Groups(IReadOnlyCollection<int> apis, IReadOnlyCollection<int> workers) =>
    [
        new("workers", workers, Own: true, Children: false),
        new("ffmpeg", workers, Own: false, Children: true),
        new("API", apis),
        .. backendProcesses.Select(b => new ProcessGroup(b.Name, b.Pid is { } pid ? [pid] : [])),
        new("bench", [Environment.ProcessId], Children: false),
    ];

    public string Describe() => string.Join(", ", backendProcesses.Select(b => $"{b.Name} pid {(b.Pid is { } pid ? pid.ToString(CultureInfo.InvariantCulture) : "not found")}"));

    private static int PostgresPort(string connectionString) =>
        connectionString.Split(';').Select(p => p.Split('=', 2)).FirstOrDefault(kv => kv.Length == 2 && kv[0].Trim().Equals("Port", StringComparison.OrdinalIgnoreCase)) is { } port
            ? int.Parse(port[1].Trim(), CultureInfo.InvariantCulture)
            : 5432;

    private static string Require(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{variable} is not set: run scripts/services.sh start and source .services/env first.");
}
