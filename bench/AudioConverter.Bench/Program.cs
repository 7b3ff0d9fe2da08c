using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using AudioConverter.Bench;

// Capacity benchmark: drives the AudioConverter API over HTTP only, writes report.txt, report.json and PNG charts.
// The bare comparison endpoint runs as a child process of its own (see BareServer).
if (args is ["--bare-server", var bareFolder])
{
    return await BareServer.ServeAsync(bareFolder);
}

if (args.FirstOrDefault() == "scaleout")
{
    return await ScaleOutScenario.RunAsync(args[1..]);
}

BenchOptions options;
try
{
    if (args.Contains("--help") || args.Contains("-h"))
    {
        Console.WriteLine(BenchOptions.Usage);
        return 0;
    }

    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
var token = cancel.Token;
Directory.CreateDirectory(options.OutFolder);

ServerUnderTest server;
var dll = options.ServerDll ?? Path.Combine("src", "AudioConverter.Server", "bin", "Release", "net10.0", "AudioConverter.Server.dll");
if (options.Url is not null)
{
    server = ServerUnderTest.External(options.Url, options.ServerPid);
}
else
{
    BenchContext.Say($"starting the server ({options.Stack}): dotnet {dll}");
    server = await ServerUnderTest.StartAsync(dll, options.Stack, null, token);
}

await using (server)
{
    var clock = Stopwatch.StartNew();
    await using var monitor = new ProcessMonitor(server.Pid, clock);
    using var fixtures = new AudioFixtures();
    using var client = new ServiceClient(server.BaseUrl);
    BenchContext.Say($"making a {options.InputSeconds:0} s 128 kbps stereo MP3 with ffmpeg");
    var mp3 = await fixtures.Mp3Async(options.InputSeconds, token);
    var context = new BenchContext(options, client, clock, monitor, fixtures, mp3);
    var report = new BenchReport
    {
        StartedAt = DateTime.UtcNow,
        Command = "AudioConverter.Bench " + string.Join(' ', args),
        Machine = Machine(),
        Server = server.Description,
        Input = string.Create(CultureInfo.InvariantCulture, $"{options.InputSeconds:0} s, 44.1 kHz stereo, 128 kbps MP3 of sines + pink noise with a tremolo, {context.Mp3.Length / 1e6:0.00} MB ({context.Mp3.Length} bytes)"),
        LevelSeconds = options.LevelSeconds,
    };
    report.LoadAverages.Add($"start: {LoadAverage()}");

    var exitCode = 0;
    try
    {
        // Warm-up: JIT, connection pool, database file; not measured.
        var warm = await client.NewUserAsync(null, token);
        for (var i = 0; i < 3; i++)
        {
            await client.UploadAsync(warm, new ReadOnlyMemoryContent(context.Mp3), "warmup.mp3", "wav", token);
        }

        await client.WaitForAllAsync([warm], TimeSpan.FromMinutes(2), token);
        await client.DeleteAllAsync([warm], TimeSpan.FromMinutes(1), token);

        if (options.Runs("upload-cost"))
        {
            report.UploadCost = await UploadCostScenario.RunAsync(
                context, ct => ServerUnderTest.StartAsync(dll, options.Stack, new Dictionary<string, string> { ["Role"] = "api", ["Queue__InProcessWithoutWorker"] = "true" }, ct), token);
            await report.WriteAsync(options.OutFolder, token); // partial, in case the run is stopped
        }

        if (options.Runs("light"))
        {
            report.Light = await WebScenario.RunLightAsync(context, token);
            await report.WriteAsync(options.OutFolder, token); // partial, in case the run is stopped
        }

        if (options.Runs("listing"))
        {
            report.Listing = await WebScenario.RunListingAsync(context, token);
            await report.WriteAsync(options.OutFolder, token); // partial, in case the run is stopped
        }

        if (options.Runs("listing-scale"))
        {
            report.ListingScale = await ListingScaleScenario.RunAsync(context, server.SqlitePath, token);
            await report.WriteAsync(options.OutFolder, token); // partial, in case the run is stopped
        }

        if (options.Runs("web"))
        {
            report.Web = await WebScenario.RunLevelsAsync(context, token);
            await report.WriteAsync(options.OutFolder, token); // partial, in case the run is stopped
        }

        if (options.Runs("worker"))
        {
            report.Worker = await WorkerScenario.RunAsync(context, token);
            await report.WriteAsync(options.OutFolder, token); // partial, in case the run is stopped
        }

        if (options.Runs("reuse"))
        {
            report.Reuse = await ReuseScenario.RunAsync(context, token);
            await report.WriteAsync(options.OutFolder, token); // partial, in case the run is stopped
        }

        if (options.Runs("loudness"))
        {
            report.Normalisation = await NormalisationScenario.RunAsync(context, token);
            await report.WriteAsync(options.OutFolder, token); // partial, in case the run is stopped
        }

        if (options.Runs("memory"))
        {
            report.Memory = await MemoryScenario.RunAsync(context, token);
            await report.WriteAsync(options.OutFolder, token); // partial, in case the run is stopped
        }

        if (options.Runs("soak"))
        {
            report.Soak = await SoakScenario.RunAsync(context, token);
            await report.WriteAsync(options.OutFolder, token); // partial, in case the run is stopped
        }

        Check(report);
    }
    catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
    {
        report.Problems.Add($"The run stopped: {e.GetType().Name}: {e.Message}");
        Console.Error.WriteLine(e);
        var tail = server.LogTail();
        if (tail.Length > 0)
        {
            Console.Error.WriteLine("server log (last lines):\n" + tail);
        }
    }

    if (server.UnexpectedExit is { } exit)
    {
        report.Problems.Add(exit);
    }

    report.LoadAverages.Add($"end: {LoadAverage()}");
    server.CopyLogTo(options.OutFolder);
    await report.WriteAsync(options.OutFolder, CancellationToken.None);
    Console.WriteLine();
    Console.WriteLine(report.ToText());
    Console.WriteLine($"report written to {Path.GetFullPath(options.OutFolder)}");
    if (report.Problems.Count > 0)
    {
        exitCode = 1;
    }

    return exitCode;
}

// Errors, tasks that did not convert, and leftovers fail the run; the performance goals are reported, not asserted.
static void Check(BenchReport report)
{
    var rows = new List<AggregateRow>();
    rows.AddRange(report.Web.SelectMany(w => new[] { w.Upload, w.Signup, w.Login }));
    if (report.Light is not null)
    {
        rows.Add(report.Light.Upload);
    }

    if (report.Listing is not null)
    {
        rows.AddRange([report.Listing.Listing, report.Listing.HealthLive, report.Listing.Empty, .. report.Listing.Steps]);
    }

    rows.AddRange(report.Worker.Select(w => w.Upload));
    if (report.Reuse is { } reuse)
    {
        rows.AddRange([reuse.MissTotal, reuse.HitTotal]);
        if (reuse.HitsReused != reuse.Files)
        {
            report.Problems.Add($"Only {reuse.HitsReused} of the {reuse.Files} repeated uploads reused the earlier output.");
        }
    }

    if (report.Normalisation is { } normalisation)
    {
        rows.Add(normalisation.Upload);
        if (normalisation.Failed > 0)
        {
            report.Problems.Add($"{normalisation.Failed} normalised tasks were not processed.");
        }
    }

    if (report.Soak is not null)
    {
        rows.Add(report.Soak.Upload);
    }

    rows.AddRange(report.ListingScale?.Sizes.SelectMany(s => new[] { s.OldestFirst, s.NewestFirst }) ?? []);
    if (report.UploadCost is not null)
    {
        rows.AddRange([report.UploadCost.Bare, report.UploadCost.Server, report.UploadCost.Shared]);
    }

    if (report.Memory is not null)
    {
        rows.Add(report.Memory.Upload);
    }

    foreach (var row in rows)
    {
        if (row.Samples == 0)
        {
            report.Problems.Add($"'{row.Label}' made no requests.");
        }
        else if (row.ErrorPercent > 0)
        {
            report.Problems.Add($"'{row.Label}' had {row.ErrorPercent:0.00}% errors.");
        }
    }

    foreach (var burst in report.Worker.Where(b => b.Failed > 0))
    {
        report.Problems.Add($"{burst.Failed} tasks of the burst of {burst.Files} were not processed.");
    }

    if (report.Light is { Conversion.ErrorPercent: > 0 })
    {
        report.Problems.Add("Some light-load tasks were not processed.");
    }

    var leftovers = (report.Soak?.NotDeleted ?? 0) + (report.UploadCost?.NotDeleted ?? 0) + report.Web.Sum(w => w.NotDeleted) + (report.Light?.NotDeleted ?? 0) + (report.Listing?.NotDeleted ?? 0)
        + report.Worker.Sum(w => w.NotDeleted) + (report.Memory?.NotDeleted ?? 0) + (report.Reuse?.NotDeleted ?? 0) + (report.Normalisation?.NotDeleted ?? 0);
    if (leftovers > 0)
    {
        report.Problems.Add($"{leftovers} tasks could not be deleted at the end.");
    }
}

static MachineInfo Machine()
{
    string Read(string path, string key, string fallback) =>
        File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal)) is { } line ? line[(line.IndexOfAny([':', '=']) + 1)..].Trim().Trim('"') : fallback : fallback;

    var memKb = double.Parse(Read("/proc/meminfo", "MemTotal", "0 kB").Split(' ')[0], CultureInfo.InvariantCulture);
    var ffmpeg = "ffmpeg ?";
    try
    {
        using var process = Process.Start(new ProcessStartInfo("ffmpeg", "-version") { RedirectStandardOutput = true, UseShellExecute = false })!;
        ffmpeg = string.Join(' ', (process.StandardOutput.ReadLine() ?? "").Split(' ').Take(3));
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
    }
    catch (System.ComponentModel.Win32Exception)
    {
        // Reported as unknown.
    }

    return new MachineInfo(Environment.ProcessorCount, Read("/proc/cpuinfo", "model name", "unknown CPU"), memKb / 1024 / 1024,
        Read("/etc/os-release", "PRETTY_NAME", RuntimeInformation.OSDescription), RuntimeInformation.FrameworkDescription, ffmpeg);
}

// Other work on the machine shows here: 1, 5 and 15 minute load averages, running/total threads.
static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
