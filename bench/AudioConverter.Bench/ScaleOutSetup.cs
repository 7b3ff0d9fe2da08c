using System.Globalization;

namespace AudioConverter.Bench;

/// <summary>
/// What every scale-out run shares: the server, the input, the target, the shared backends' settings, and the
/// backends' own processes (found by the port each listens on) for the CPU figures.
/// </summary>
internal sealed class ScaleOutSetup
{
    private readonly (string Name, int? Pid)[] backendProcesses;

    private ScaleOutSetup(string dll, byte[] mp3, string target, (string, int?)[] backendProcesses)
    {
        Dll = dll;
        Mp3 = mp3;
        Target = target;
        this.backendProcesses = backendProcesses;
    }

    public string Dll { get; }

    public byte[] Mp3 { get; }

    public string Target { get; }

    public static ScaleOutSetup FromEnvironment(string dll, byte[] mp3, string target)
    {
        var rabbit = ServerUnderTest.RequiredVariable("AC_TEST_RABBITMQ");
        var s3 = ServerUnderTest.RequiredVariable("AC_TEST_S3_ENDPOINT");
        var postgres = ServerUnderTest.RequiredVariable("AC_TEST_POSTGRES");

        // Several instances of each may run on the machine (the fault tests start their own): the ones these
        // URLs name are the processes listening on their ports; their descendants (PostgreSQL's backends) count too.
        (string, int?)[] processes =
        [
            ("s3rver", ProcessGroupCpu.ListenerOf(new Uri(s3).Port)),
            ("postgres", ProcessGroupCpu.ListenerOf(PostgresPort(postgres))),
            ("rabbitmq", ProcessGroupCpu.ListenerOf(new Uri(rabbit).Port)),
        ];
        return new ScaleOutSetup(dll, mp3, target, processes);
    }

    /// <summary>
    /// The settings of one measurement's processes: a fresh database, queue and bucket they share, and one signing
    /// key, so a token one API issued is good at the other.
    /// </summary>
    public static Dictionary<string, string> Stack()
    {
        var settings = ServerUnderTest.DistributedSettings("bench-scale-" + Guid.NewGuid().ToString("N")[..12]);
        settings["Auth__SigningKey"] = "bench-scaleout-signing-key-" + Guid.NewGuid().ToString("N");
        settings["Logging__LogLevel__Default"] = "Warning";
        return settings;
    }

    /// <summary>Starts one process of the measurement in <paramref name="role"/>, without waiting for it.</summary>
    public ServerUnderTest Start(Dictionary<string, string> stack, string role, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>(stack) { ["Role"] = role };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return ServerUnderTest.Launch(Dll, "distributed", settings);
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
}
