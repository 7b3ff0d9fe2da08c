using System.Globalization;

namespace AudioConverter.Bench;

/// <summary>
/// CPU time of named groups of processes, sampled every 500 ms from /proc, so a window chosen afterwards (the span
/// between two tasks' processedAt) can be charged to each group. A group is a set of root processes with or without
/// their descendants: a root's figure counts its reaped children (cutime, cstime), so an ffmpeg or a PostgreSQL
/// backend that ends inside the window moves from the descendants into its parent's figure and is counted once.
/// The machine's busy time (/proc/stat) is sampled with them, so what no group took is "the rest of the machine".
/// </summary>
internal sealed class ProcessGroupCpu : IAsyncDisposable
{
    private const double TicksPerSecond = 100; // USER_HZ
    private readonly Func<IReadOnlyList<ProcessGroup>> groups;
    private readonly List<GroupSample> samples = [];
    private readonly Lock gate = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    /// <param name="groups">Read at every sample, so processes started later (the workers) join their group.</param>
    public ProcessGroupCpu(Func<IReadOnlyList<ProcessGroup>> groups)
    {
        this.groups = groups;
        loop = Task.Run(LoopAsync);
    }

    /// <summary>
    /// Cores each group used between two instants (CPU-seconds per second), from the samples nearest to them, with
    /// "machine" (all busy time) and "rest of machine" (busy time no group took); empty when /proc is not readable.
    /// </summary>
    public (double Seconds, Dictionary<string, double> Cores) Between(DateTime from, DateTime to)
    {
        GroupSample first, last;
        lock (gate)
        {
            if (samples.Count < 2)
            {
                return (0, []);
            }

            first = samples.MinBy(s => Math.Abs((s.At - from).TotalSeconds))!;
            last = samples.MinBy(s => Math.Abs((s.At - to).TotalSeconds))!;
        }

        var seconds = (last.At - first.At).TotalSeconds;
        if (seconds <= 0)
        {
            return (0, []);
        }

        double Cores(long ticks) => ticks / TicksPerSecond / seconds;
        var cores = last.Ticks.ToDictionary(g => g.Key, g => Cores(g.Value - first.Ticks.GetValueOrDefault(g.Key)));
        cores["machine"] = Cores(last.MachineBusy - first.MachineBusy);
        cores["rest of machine"] = cores["machine"] - last.Ticks.Keys.Sum(k => cores[k]);
        return (seconds, cores);
    }

    /// <summary>The process listening on a local TCP port (from /proc/net/tcp and the processes' socket links), or null.</summary>
    public static int? ListenerOf(int port)
    {
        try
        {
            var inodes = new[] { "/proc/net/tcp", "/proc/net/tcp6" }.Where(File.Exists).SelectMany(File.ReadLines).Skip(1)
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length > 9 && f[3] == "0A" && int.Parse(f[1][(f[1].LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                .Select(f => $"socket:[{f[9]}]")
                .ToHashSet();
            foreach (var pid in Pids())
            {
                try
                {
                    if (Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Any(fd => new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target)))
                    {
                        return pid;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Gone, or not ours to read.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // No /proc: the groups of backends stay empty.
        }

        return null;
    }

    private static IEnumerable<int> Pids() =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!, CultureInfo.InvariantCulture));

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            do
            {
                if (Read() is { } sample)
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

    private GroupSample? Read()
    {
        try
        {
            var at = DateTime.UtcNow;
            var processes = new Dictionary<int, Stat>();
            foreach (var pid in Pids())
            {
                if (ReadStat(pid) is { } stat)
                {
                    processes[pid] = stat;
                }
            }

            var children = processes.ToLookup(p => p.Value.Parent, p => p.Key);
            var ticks = new Dictionary<string, long>();
            foreach (var group in groups())
            {
                ticks[group.Name] = group.Roots.Where(processes.ContainsKey).Sum(root => Ticks(root, group, processes, children));
            }

            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            return new GroupSample(at, ticks, cpu.Take(8).Sum() - cpu[3] - cpu[4]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>A root's share in its group: its own time, its reaped children's, or both; and its live descendants'.</summary>
    private static long Ticks(int root, ProcessGroup group, Dictionary<int, Stat> processes, ILookup<int, int> children)
    {
        var stat = processes[root];
        var total = (group.Own ? stat.Own : 0) + (group.Children ? stat.Reaped : 0);
        if (!group.Children)
        {
            return total;
        }

        var pending = new Stack<int>(children[root]);
        while (pending.TryPop(out var pid))
        {
            total += processes[pid].Own + processes[pid].Reaped;
            foreach (var child in children[pid])
            {
                pending.Push(child);
            }
        }

        return total;
    }

    private static Stat? ReadStat(int pid)
    {
        try
        {
            // The command name can hold spaces and parentheses: fields are counted after its last ')'.
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
            return new Stat((int)Field(4), Field(14) + Field(15), Field(16) + Field(17));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null; // Ended between the listing and the read.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }

    private sealed record Stat(int Parent, long Own, long Reaped);

    private sealed record GroupSample(DateTime At, Dictionary<string, long> Ticks, long MachineBusy);
}

/// <summary>
/// Processes charged together: the roots' own time when <paramref name="Own"/>, and with <paramref name="Children"/>
/// everything they started (reaped children and live descendants).
/// </summary>
internal sealed record ProcessGroup(string Name, IReadOnlyCollection<int> Roots, bool Own = true, bool Children = true);
