using System.Diagnostics;
using System.Globalization;
using System.Text;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using Xunit.Abstractions;

namespace AudioConverter.Tests.Soak;

/// <summary>
/// The chaos soak: the deployed shape (two APIs, two workers, PostgreSQL, a broker, S3) under a client that uploads,
/// re-converts and deletes, while processes are killed (-9) and stopped (SIGTERM) and started again, PostgreSQL,
/// RabbitMQ and s3rver go away and come back, a worker's temp folder fills up and a worker's ffmpeg turns slow.
/// When the faults stop and the stack settles, <see cref="SoakInvariants"/> checks that nothing accepted was lost
/// or left half-done and nothing was left behind. The sizes come from environment variables (the defaults are the
/// short run of ./test.sh; scripts/soak.sh runs the long one): AC_SOAK_SECONDS, AC_SOAK_FAULTS, AC_SOAK_UPLOADS,
/// AC_SOAK_PUBSUB_SECONDS, AC_SOAK_PUBSUB_FAULTS, AC_SOAK_SETTLE_SECONDS, and AC_SOAK_SEED to replay a run.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ChaosSoakTests(ITestOutputHelper output)
{
    [Fact]
    public Task OnRabbitMqNothingAcceptedIsLostOrLeftBehindWhateverFails() =>
        RunAsync(SoakQueue.RabbitMq, Setting("AC_SOAK_SECONDS", 150), Setting("AC_SOAK_FAULTS", 110), Setting("AC_SOAK_UPLOADS", 300));

    [Fact]
    public Task OnPubSubNothingAcceptedIsLostOrLeftBehindWhateverFails() =>
        RunAsync(SoakQueue.PubSub, Setting("AC_SOAK_PUBSUB_SECONDS", 45), Setting("AC_SOAK_PUBSUB_FAULTS", 30), Setting("AC_SOAK_UPLOADS", 300) / 3);

    private async Task RunAsync(SoakQueue queue, int seconds, int faultCount, int uploads)
    {
        var seed = Environment.GetEnvironmentVariable("AC_SOAK_SEED") is { Length: > 0 } text ? int.Parse(text, CultureInfo.InvariantCulture) : Random.Shared.Next();
        Log($"chaos soak on {queue}: seed {seed} (AC_SOAK_SEED={seed} replays the fault schedule), {seconds} s, {faultCount} faults, up to {uploads} uploads");
        var clock = Stopwatch.StartNew();
        await using var stack = await SoakStack.StartAsync(queue);
        Log($"stack ready after {clock.Elapsed.TotalSeconds:F0} s; temp folders are tmpfs mounts: {stack.TempFoldersAreMounts}");

        var traffic = new SoakTraffic(stack, uploads, seed);
        await traffic.SignUpAsync();
        var faults = new SoakFaults(stack, seed, Log);
        using var stopTraffic = new CancellationTokenSource();
        var client = traffic.RunAsync(loops: 3, stopTraffic.Token);
        await faults.RunAsync(faultCount, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(seconds * 2));
        await stopTraffic.CancelAsync();
        await client;
        var chaos = clock.Elapsed;
        Log($"faults and traffic stopped after {chaos.TotalSeconds:F0} s: {faults.Done.Count} faults, {traffic.Tasks.Count} tasks accepted");

        // Every process up and nothing slowed any more, then let the stack settle by itself.
        await File.WriteAllTextAsync(stack.FfmpegDelayFile, "0");
        var invariants = new SoakInvariants(stack, traffic);
        foreach (var process in stack.Processes.Where(p => p.Current is null))
        {
            try
            {
                await process.StartAsync(TimeSpan.FromSeconds(120));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                invariants.Violations.Add(new(SoakInvariants.RecoveryFailed, null, $"{process.Name} does not start after the faults: {e.Message[..Math.Min(e.Message.Length, 2000)]}"));
            }
        }

        var settle = TimeSpan.FromSeconds(Setting("AC_SOAK_SETTLE_SECONDS", 120));
        var settled = await invariants.WaitForQuiescenceAsync(settle);
        Log(settled ? $"settled {(clock.Elapsed - chaos).TotalSeconds:F0} s after the faults stopped" : $"NOT settled {settle.TotalSeconds:F0} s after the faults stopped");

        // What a fault left between a blob's write and its row is the janitor's: wait for a pass that covers the whole run.
        var scanned = await invariants.WaitForOrphanScanAsync(DateTime.UtcNow, TimeSpan.FromSeconds(SoakStack.OrphanBlobSeconds + 60));
        Log(scanned is null ? "no orphan scan covering the run ended in time" : $"an orphan scan covering the run ended {(clock.Elapsed - chaos).TotalSeconds:F0} s after the faults stopped");
        await invariants.CheckAsync(faults.Done, Log);
        if (queue == SoakQueue.PubSub)
        {
            foreach (var process in stack.Processes)
            {
                await process.TerminateAsync(TimeSpan.FromSeconds(30));
            }

            await invariants.CheckPubSubAsync();
        }

        var report = Report(queue, seed, clock.Elapsed, faults.Done, traffic, invariants, stack);
        Log(report);
        var folder = Environment.GetEnvironmentVariable("AC_SOAK_ARTIFACTS") is { Length: > 0 } chosen ? chosen : Path.Combine(ServerProcess.RepositoryRoot(), "artifacts", "soak");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, $"{queue.ToString().ToLowerInvariant()}-report.txt"), report);
        foreach (var process in stack.Processes)
        {
            // Every incarnation's output, to follow a violation's task through the workers.
            await File.WriteAllLinesAsync(Path.Combine(folder, $"{queue.ToString().ToLowerInvariant()}-{process.Name}.log"), process.AllLines);
        }

        Assert.True(faults.Done.Count >= faultCount, $"only {faults.Done.Count} of {faultCount} faults were injected in {seconds * 2} s");
        Assert.True(traffic.Tasks.Count > 0, "no upload was accepted");
        Assert.True(invariants.Violations.Count == 0, $"{invariants.Violations.Count} violations (seed {seed}):\n{string.Join('\n', invariants.Violations.Take(40).Select(v => $"{v.Invariant}: task {v.TaskId?.ToString(CultureInfo.InvariantCulture) ?? "-"}: {v.Detail}"))}");
    }

    private static string Report(SoakQueue queue, int seed, TimeSpan elapsed, IReadOnlyList<SoakFault> faults, SoakTraffic traffic, SoakInvariants invariants, SoakStack stack)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Chaos soak on {queue}, seed {seed}, {elapsed.TotalSeconds:F0} s in all");
        text.AppendLine(CultureInfo.InvariantCulture, $"Faults: {faults.Count}");
        foreach (var kind in faults.GroupBy(f => f.Kind).OrderByDescending(g => g.Count()))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {kind.Key,-26} {kind.Count(),5}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"Process starts: {string.Join(", ", stack.Processes.Select(p => $"{p.Name} {p.Starts}"))}");
        text.AppendLine("Requests:");
        foreach (var (answer, count) in traffic.Answers.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {answer,-26} {count,5}");
        }

        text.AppendLine("Tasks:");
        foreach (var (what, count) in invariants.TaskCounts)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {what,-58} {count,5}");
        }

        foreach (var note in invariants.Notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Note: {note}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"Violations: {invariants.Violations.Count}");
        foreach (var group in invariants.Violations.GroupBy(v => v.Invariant).OrderByDescending(g => g.Count()))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {group.Count(),5}  {group.Key}");
            foreach (var violation in group.Take(8))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"         task {violation.TaskId?.ToString(CultureInfo.InvariantCulture) ?? "-"}: {violation.Detail}");
                if (violation.TaskId is { } id && traffic.Tasks.FirstOrDefault(t => t.Id == id) is { } task)
                {
                    // The faults during the task's life (from its acceptance to the end of the chaos), the likely causes.
                    var during = faults.Where(f => f.Ended >= task.AcceptedAt.AddSeconds(-1)).Take(6).Select(f => $"#{f.Number} {f.Kind} {f.Target} at {f.Started:HH:mm:ss.f}");
                    text.AppendLine(CultureInfo.InvariantCulture, $"           accepted {task.AcceptedAt:HH:mm:ss.f}; faults after: {string.Join("; ", during)}");
                }
            }
        }

        return text.ToString();
    }

    private static int Setting(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
