using AudioConverter.Tests.Contracts;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Soak;

/// <summary>Which broker the soak's stack runs on.</summary>
public enum SoakQueue
{
    RabbitMq,
    PubSub,
}

/// <summary>
/// The deployed shape for the chaos soak: two API and two worker processes (the built server) on private
/// PostgreSQL, s3rver and (for <see cref="SoakQueue.RabbitMq"/>) RabbitMQ instances that the soak may stop and
/// start, or on the shared Pub/Sub emulator with a topic and subscription of its own (never stopped). Each worker's
/// temp folder is a small tmpfs of the soak's own (when running as root), so the soak can fill it; the second
/// worker runs ffmpeg through a wrapper that sleeps first while the soak says so.
/// </summary>
public sealed class SoakStack : IAsyncDisposable
{
    public const string Bucket = "soak";
    public const string RabbitQueueName = "audioconverter.soak";
    /// <summary>How old an unreferenced blob must be before the janitor removes it.</summary>
    public const int OrphanBlobSeconds = 20;

    private const long TempFolderBytes = 8 * 1024 * 1024;

    private readonly List<string> mounts = [];

    private SoakStack(SoakQueue queue, string root)
    {
        Queue = queue;
        Root = root;
    }

    public SoakQueue Queue { get; }

    public string Root { get; }

    public PrivatePostgres Database { get; private set; } = null!;

    public PrivateRabbitMq? Broker { get; private set; }

    public PrivateS3rver S3 { get; private set; } = null!;

    /// <summary>The processes reach s3rver through this proxy, which the soak cuts to make the store unreachable.</summary>
    public TcpProxy S3Proxy { get; private set; } = null!;

    public string S3Endpoint => $"http://127.0.0.1:{S3Proxy.Port}";

    public string PubSubProject { get; } = "audioconverter-soak";

    public string PubSubTopic { get; } = ExternalServices.UniqueName("soak");

    public string PubSubSubscription => PubSubTopic + "-workers";

    public List<SoakProcess> Processes { get; } = [];

    public IEnumerable<SoakProcess> Apis => Processes.Where(p => p.Role == "api");

    public IEnumerable<SoakProcess> Workers => Processes.Where(p => p.Role == "worker");

    /// <summary>The worker whose ffmpeg the soak can slow down.</summary>
    public SoakProcess SlowFfmpegWorker => Workers.Last();

    /// <summary>Seconds the wrapper sleeps before it starts ffmpeg (0: none).</summary>
    public string FfmpegDelayFile => Path.Combine(Root, "ffmpeg-delay");

    /// <summary>Whether the workers' temp folders are tmpfs mounts the soak can fill (it needs root).</summary>
    public bool TempFoldersAreMounts => mounts.Count == 2;

    public string ConnectionString => Database.ConnectionString("soak");

    public static async Task<SoakStack> StartAsync(SoakQueue queue)
    {
        var stack = new SoakStack(queue, Path.Combine(Path.GetTempPath(), "ac-soak", Guid.NewGuid().ToString("N")[..12]));
        Directory.CreateDirectory(stack.Root);
        try
        {
            await stack.StartBackendsAndProcessesAsync();
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }

        return stack;
    }

    private async Task StartBackendsAndProcessesAsync()
    {
        Database = await PrivatePostgres.StartAsync();
        S3 = await PrivateS3rver.StartAsync();
        S3Proxy = new TcpProxy(S3.Port);
        if (Queue == SoakQueue.RabbitMq)
        {
            Broker = await PrivateRabbitMq.StartAsync();
        }

        await File.WriteAllTextAsync(FfmpegDelayFile, "0");
        var wrapper = Path.Combine(Root, "slow-ffmpeg.sh");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nd=$(cat '{FfmpegDelayFile}' 2>/dev/null || echo 0)\nsleep \"$d\"\nexec ffmpeg \"$@\"\n");
        await ExternalCommand.RunAsync("chmod", ["755", wrapper]);

        var shared = new Dictionary<string, string>
        {
            ["Database:Provider"] = "Postgres",
            ["Database:ConnectionString"] = ConnectionString,
            ["Database:MigrateOnStart"] = "false",
            ["Storage:Provider"] = "S3",
            ["Storage:S3:ServiceUrl"] = S3Endpoint,
            ["Storage:S3:Bucket"] = Bucket,
            ["Storage:S3:AccessKey"] = "S3RVER",
            ["Storage:S3:SecretKey"] = "S3RVER",
            ["Storage:S3:CreateBucket"] = "true",
            ["Auth:SigningKey"] = "chaos-soak-signing-key-" + Guid.NewGuid().ToString("N"),
            ["Worker:Concurrency"] = "1",
            ["Worker:LeaseSeconds"] = "3",
            ["Worker:SweepIntervalSeconds"] = "1",
            ["Worker:RepublishAfterSeconds"] = "10",
            // The system's failures (a full temp folder, s3rver away, PostgreSQL restarting) spend the retry window, the
            // default hour, which no storm here outlasts; waits of 1, 2, 4, then 8 s keep each task close behind the
            // faults. Attempts count only claims that ended without an outcome: a kill -9 comes every few seconds in
            // the storm and a 3-second lease can run out on a loaded machine, so twelve of them are allowed.
            ["Worker:MaxAttempts"] = "12",
            ["Worker:RetryBaseDelaySeconds"] = "1",
            ["Worker:RetryMaxDelaySeconds"] = "8",
            ["Worker:ShutdownGraceSeconds"] = "2",
            // The janitor's orphan scan collects what a fault left between a blob's write and its row (an upload's
            // original, a conversion's output): every few seconds, for blobs older than the longest such gap the soak
            // sees. Its debug line says which blobs each pass considered, so the checker can wait for one that covers the run.
            ["Worker:OrphanBlobSeconds"] = OrphanBlobSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Worker:JanitorIntervalSeconds"] = "3",
            ["Logging:LogLevel:AudioConverter.Server.Worker.StorageJanitor"] = "Debug",
            ["Logging:Console:FormatterOptions:TimestampFormat"] = "HH:mm:ss.fff ",
            ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
        };
        if (Queue == SoakQueue.RabbitMq)
        {
            shared["Queue:Provider"] = "RabbitMq";
            shared["Queue:RabbitMq:Uri"] = Broker!.Uri;
            shared["Queue:RabbitMq:QueueName"] = RabbitQueueName;
            shared["Queue:RabbitMq:PublishTimeoutSeconds"] = "2";
        }
        else
        {
            shared["Queue:Provider"] = "PubSub";
            shared["Queue:PubSub:EmulatorHost"] = ExternalServices.PubSubEmulator;
            shared["Queue:PubSub:ProjectId"] = PubSubProject;
            shared["Queue:PubSub:Topic"] = PubSubTopic;
            shared["Queue:PubSub:Subscription"] = PubSubSubscription;
            shared["Queue:PubSub:CreateResources"] = "true";
        }

        // The first API migrates the database; the others start once it has.
        var first = Add("api-1", "api", new(shared) { ["Database:MigrateOnStart"] = "true" });
        await first.StartAsync(TimeSpan.FromSeconds(120));
        await first.Current!.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        Add("api-2", "api", shared);
        Add("worker-1", "worker", shared);
        Add("worker-2", "worker", new(shared) { ["Media:FfmpegPath"] = wrapper });
        foreach (var worker in Workers)
        {
            await MountTempFolderAsync(worker.TempDirectory);
        }

        await Task.WhenAll(Processes.Skip(1).Select(p => p.StartAsync(TimeSpan.FromSeconds(120))));
        await Task.WhenAll(Processes.Select(p => p.Current!.WaitUntilReadyAsync(TimeSpan.FromSeconds(90))));
    }

    private SoakProcess Add(string name, string role, Dictionary<string, string> settings)
    {
        var data = Path.Combine(Root, name);
        Directory.CreateDirectory(data);
        var process = new SoakProcess(name, role, data, ServerProcess.FreePort(), new(settings) { ["Role"] = role });
        Processes.Add(process);
        return process;
    }

    private async Task MountTempFolderAsync(string folder)
    {
        Directory.CreateDirectory(folder);
        if (Environment.UserName != "root")
        {
            return;
        }

        try
        {
            await ExternalCommand.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={TempFolderBytes}", "soak-tmp", folder]);
            mounts.Add(folder);
        }
        catch (InvalidOperationException)
        {
            // No tmpfs here (a container without the capability): the disk-full fault is left out.
        }
    }

    /// <summary>Fills a worker's temp folder to the last byte; the returned file is deleted to free it again.</summary>
    public static async Task<string> FillAsync(string folder, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, "soak-fill-" + Guid.NewGuid().ToString("N")[..8]);
        var chunk = new byte[64 * 1024];
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
            while (true)
            {
                await file.WriteAsync(chunk, cancellationToken);
            }
        }
        catch (IOException)
        {
            // No space left on the device: the folder is full.
        }

        return path;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Processes)
        {
            await process.DisposeAsync();
        }

        foreach (var mount in mounts)
        {
            try
            {
                await ExternalCommand.RunAsync("umount", ["-l", mount]);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }

        if (S3Proxy is not null)
        {
            await S3Proxy.DisposeAsync();
        }

        if (S3 is not null)
        {
            await S3.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        if (Queue == SoakQueue.PubSub)
        {
            await SoakPubSub.DeleteAsync(this);
        }

        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}

/// <summary>One of the stack's four processes across its restarts: same name, port, data folder and settings.</summary>
public sealed class SoakProcess(string name, string role, string dataDirectory, int port, Dictionary<string, string> settings) : IAsyncDisposable
{
    private readonly List<string> pastLines = [];

    public string Name { get; } = name;

    public string Role { get; } = role;

    public string DataDirectory { get; } = dataDirectory;

    public int Port { get; } = port;

    public Uri BaseAddress { get; } = new($"http://127.0.0.1:{port}");

    public string TempDirectory => Path.Combine(DataDirectory, "tmp");

    public ServerProcess? Current { get; private set; }

    public int Starts { get; private set; }

    /// <summary>Every line every incarnation of this process wrote.</summary>
    public IReadOnlyList<string> AllLines
    {
        get
        {
            lock (pastLines)
            {
                return [.. pastLines, .. Current?.Lines ?? []];
            }
        }
    }

    /// <summary>Starts the process, again and again while it exits early (a backend down), until the deadline.</summary>
    public async Task StartAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                // A loaded machine (the soak shares it) can take minutes to start a process: wait as long as the caller allows.
                Current = await ServerProcess.StartAsync(DataDirectory, settings, Port, deadline - DateTime.UtcNow);
                Starts++;
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException && DateTime.UtcNow < deadline)
            {
                lock (pastLines)
                {
                    pastLines.Add($"[soak] start failed, trying again: {e.Message.Split('\n')[0]}");
                }

                await Task.Delay(500);
            }
        }
    }

    /// <summary>SIGKILL; any ffmpeg it left running is ended too.</summary>
    public async Task KillHardAsync()
    {
        if (Current is not { } current)
        {
            return;
        }

        current.KillHard();
        await RetireAsync(current);
    }

    /// <summary>SIGTERM; the exit code, or null when it did not exit within the timeout (it is then killed).</summary>
    public async Task<int?> TerminateAsync(TimeSpan timeout)
    {
        if (Current is not { } current)
        {
            return 0;
        }

        int? code;
        try
        {
            code = await current.TerminateAsync(timeout);
        }
        catch (OperationCanceledException)
        {
            code = null;
        }

        await RetireAsync(current);
        return code;
    }

    private async Task RetireAsync(ServerProcess current)
    {
        Current = null;
        await current.DisposeAsync();
        lock (pastLines)
        {
            pastLines.AddRange(current.Lines);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Current is { } current)
        {
            await RetireAsync(current);
        }
    }
}
