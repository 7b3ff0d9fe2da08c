using System.Diagnostics;
using System.Globalization;

namespace AudioConverter.Bench;

/// <summary>
/// Samples the server process every 200 ms from /proc: resident memory (VmRSS, VmHWM), its CPU time
/// (utime+stime), the CPU time of children it has reaped (cutime+cstime: the ffmpeg and ffprobe runs),
/// and the whole machine's busy time from /proc/stat.
/// </summary>
internal sealed class ProcessMonitor : IAsyncDisposable
{
    private const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux this runs on.
    private readonly int? pid;
    private readonly Stopwatch clock;
    private readonly List<ProcessSample> samples = [];
    private readonly Lock gate = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public ProcessMonitor(int? pid, Stopwatch clock)
    {
        this.pid = pid;
        this.clock = clock;
        loop = pid is null ? Task.CompletedTask : Task.Run(LoopAsync);
    }

    public bool Enabled => pid is not null;

    public IReadOnlyList<ProcessSample> Between(double from, double to)
    {
        lock (gate)
        {
            return [.. samples.Where(s => s.Seconds >= from && s.Seconds <= to)];
        }
    }

    /// <summary>Peak and average figures between two bench-clock instants; null when the server's pid is unknown.</summary>
    public ResourceUsage? Usage(double from, double to)
    {
        var window = Between(from, to);
        if (window.Count < 2)
        {
            var now = Read();
            if (now is null)
            {
                return null;
            }

            window = [.. window, now];
            if (window.Count < 2)
            {
                return new ResourceUsage(now.RssKb / 1024.0, now.HwmKb / 1024.0, 0, 0, 0);
            }
        }

        var first = window[0];
        var last = window[^1];
        var seconds = Math.Max(0.001, last.Seconds - first.Seconds);
        var machineTotal = Math.Max(1, last.MachineTotalTicks - first.MachineTotalTicks);
        return new ResourceUsage(
            PeakRssMb: window.Max(s => s.RssKb) / 1024.0,
            HwmMb: last.HwmKb / 1024.0,
            ServerCpuPercent: 100.0 * (last.CpuTicks - first.CpuTicks) / TicksPerSecond / seconds,
            ChildrenCpuPercent: 100.0 * (last.ChildCpuTicks - first.ChildCpuTicks) / TicksPerSecond / seconds,
            MachineCpuPercent: 100.0 * (machineTotal - (last.MachineIdleTicks - first.MachineIdleTicks)) / machineTotal);
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            do
            {
                var sample = Read();
                if (sample is not null)
                {
                    lock (gate)
                    {
                        samples.Add(sample);
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stop.Token));
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private ProcessSample? Read()
    {
        try
        {
            var status = File.ReadAllLines($"/proc/{pid}/status");
            long Kb(string key) => status.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal)) is { } line
                ? long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture)
                : 0;

            // The command name in /proc/PID/stat can hold spaces; fields are counted after its closing parenthesis.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);

            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            return new ProcessSample(
                clock.Elapsed.TotalSeconds,
                Kb("VmRSS:"),
                Kb("VmHWM:"),
                Field(14) + Field(15),
                Field(16) + Field(17),
                cpu.Take(8).Sum(),
                cpu[3] + cpu[4]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }
}
