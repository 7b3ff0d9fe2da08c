using System.Diagnostics;

namespace AudioConverter.Tests.Soak;

/// <summary>One fault the soak injected, when, and what went wrong recovering from it (null: nothing).</summary>
public sealed record SoakFault(int Number, string Kind, string Target, DateTime Started, DateTime Ended, string? Problem);

/// <summary>
/// Injects faults at random (a seeded <see cref="Random"/>, so a run can be replayed) at an even pace, each on a
/// target that is not already in a fault, and recovers from each by itself (restart, start again, free the disk).
/// Process faults are frequent (a restart takes a second or two); database and broker restarts rarer.
/// </summary>
public sealed class SoakFaults(SoakStack stack, int seed, Action<string> log)
{
    public const string Kill = "kill -9";
    public const string Term = "SIGTERM";
    public const string RabbitMqRestart = "RabbitMQ restart";
    public const string PostgresRestart = "PostgreSQL restart";
    public const string S3Unreachable = "s3rver unreachable";
    public const string DiskFull = "worker temp folder full";
    public const string SlowFfmpeg = "slow ffmpeg";

    private readonly Random random = new(seed);
    private readonly HashSet<string> busy = [];
    private readonly Dictionary<string, DateTime> restUntil = [];
    private readonly List<SoakFault> done = [];
    private readonly List<Task> running = [];
    private int started;

    public IReadOnlyList<SoakFault> Done
    {
        get
        {
            lock (done)
            {
                return [.. done.OrderBy(f => f.Number)];
            }
        }
    }

    /// <summary>Injects at least <paramref name="faults"/> faults spread over <paramref name="duration"/>, then waits for every recovery.</summary>
    public async Task RunAsync(int faults, TimeSpan duration, TimeSpan hardLimit)
    {
        var clock = Stopwatch.StartNew();
        var pace = duration / Math.Max(1, faults);
        while (started < faults && clock.Elapsed < hardLimit)
        {
            var next = pace * (started + 1);
            if (next > clock.Elapsed)
            {
                await Task.Delay(next - clock.Elapsed);
            }

            if (Choose() is { } choice)
            {
                started++;
                running.Add(InjectAsync(started, choice.Kind, choice.Target));
            }
            else
            {
                // Every target is still recovering: try again shortly.
                await Task.Delay(100);
            }

            running.RemoveAll(t => t.IsCompleted);
        }

        await Task.WhenAll(running);
    }

    private (string Kind, string Target)? Choose()
    {
        var options = new List<(string Kind, string Target, int Weight)>();
        foreach (var process in stack.Processes)
        {
            options.Add((Kill, process.Name, 12));
            options.Add((Term, process.Name, 8));
        }

        options.Add((S3Unreachable, "s3rver", 10));
        options.Add((PostgresRestart, "postgresql", 4));
        if (stack.Broker is not null)
        {
            options.Add((RabbitMqRestart, "rabbitmq", 3));
        }

        if (stack.TempFoldersAreMounts)
        {
            foreach (var worker in stack.Workers)
            {
                options.Add((DiskFull, worker.Name + " temp", 6));
            }
        }

        options.Add((SlowFfmpeg, stack.SlowFfmpegWorker.Name + " ffmpeg", 8));

        lock (busy)
        {
            // One process of each role down at a time, so the client keeps a way in and the work a way on;
            // a backend gets a rest after its fault (PostgreSQL and RabbitMQ restarts take seconds).
            var now = DateTime.UtcNow;
            var down = stack.Processes.Where(p => busy.Contains(p.Name)).Select(p => p.Role).ToHashSet();
            var free = options.Where(o => !busy.Contains(o.Target) && now >= restUntil.GetValueOrDefault(o.Target)
                && !(o.Kind is Kill or Term && down.Contains(stack.Processes.Single(p => p.Name == o.Target).Role))).ToList();
            if (free.Count == 0)
            {
                return null;
            }

            var roll = random.Next(free.Sum(o => o.Weight));
            foreach (var option in free)
            {
                roll -= option.Weight;
                if (roll < 0)
                {
                    busy.Add(option.Target);
                    return (option.Kind, option.Target);
                }
            }

            throw new UnreachableException();
        }
    }

    private async Task InjectAsync(int number, string kind, string target)
    {
        // Each fault draws its own timings now, in order, so the schedule depends on the seed alone.
        double pause;
        double hold;
        lock (busy)
        {
            pause = random.NextDouble();
            hold = random.NextDouble();
        }

        var at = DateTime.UtcNow;
        string? problem = null;
        try
        {
            problem = await (kind switch
            {
                Kill => KillAsync(target, pause),
                Term => TerminateAsync(target, pause),
                RabbitMqRestart => RestartAsync(stack.Broker!.StopAsync, stack.Broker!.StartAgainAsync, 0.5 + (2 * hold)),
                PostgresRestart => RestartAsync(stack.Database.StopAsync, stack.Database.StartAgainAsync, 0.5 + (2 * hold)),
                S3Unreachable => CutAsync(stack.S3Proxy, 1 + (4 * hold)),
                DiskFull => FillAsync(target, 1 + (4 * hold)),
                SlowFfmpeg => SlowAsync(2 + (4 * pause), 4 + (10 * hold)),
                _ => throw new UnreachableException(kind),
            });
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
        {
            problem = $"recovery failed: {e.Message.Split('\n')[0]}";
        }
        finally
        {
            lock (busy)
            {
                busy.Remove(target);
                restUntil[target] = DateTime.UtcNow + kind switch
                {
                    RabbitMqRestart => TimeSpan.FromSeconds(30),
                    PostgresRestart => TimeSpan.FromSeconds(15),
                    S3Unreachable => TimeSpan.FromSeconds(4),
                    DiskFull => TimeSpan.FromSeconds(3),
                    _ => TimeSpan.Zero,
                };
            }
        }

        var fault = new SoakFault(number, kind, target, at, DateTime.UtcNow, problem);
        lock (done)
        {
            done.Add(fault);
        }

        log($"fault #{number} {kind} of {target} at {at:HH:mm:ss.f}, recovered in {(fault.Ended - at).TotalSeconds:F1} s{(problem is null ? "" : ": " + problem)}");
    }

    private SoakProcess Process(string name) => stack.Processes.Single(p => p.Name == name);

    private async Task<string?> KillAsync(string name, double pause)
    {
        var process = Process(name);
        await process.KillHardAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.5 * pause));
        await process.StartAsync(TimeSpan.FromSeconds(120));
        return null;
    }

    private async Task<string?> TerminateAsync(string name, double pause)
    {
        var process = Process(name);
        var code = await process.TerminateAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(1.5 * pause));
        await process.StartAsync(TimeSpan.FromSeconds(120));
        return code switch
        {
            0 => null,
            null => "did not exit within 30 s of SIGTERM (killed)",
            _ => $"exited with {code} after SIGTERM",
        };
    }

    private static async Task<string?> RestartAsync(Func<Task> stop, Func<Task> start, double seconds)
    {
        await stop();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        await start();
        return null;
    }

    private static async Task<string?> CutAsync(TcpProxy proxy, double seconds)
    {
        proxy.Cut();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        proxy.Restore();
        return null;
    }

    private async Task<string?> FillAsync(string target, double seconds)
    {
        var worker = Process(target.Split(' ')[0]);
        var fill = await SoakStack.FillAsync(worker.TempDirectory, CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        File.Delete(fill);
        return null;
    }

    private async Task<string?> SlowAsync(double delaySeconds, double seconds)
    {
        await File.WriteAllTextAsync(stack.FfmpegDelayFile, delaySeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        await File.WriteAllTextAsync(stack.FfmpegDelayFile, "0");
        return null;
    }
}
