namespace AudioConverter.Cli;

/// <summary>
/// One line per file: upload bytes as a bar, then the conversion's percent as a bar. On a terminal the lines are redrawn in place;
/// otherwise (a pipe, a log) each change of phase is printed once, so output stays readable.
/// </summary>
public sealed class ProgressView(TextWriter output, bool interactive)
{
    private readonly List<Line> lines = [];
    private readonly Lock gate = new();
    private int drawn;

    public sealed class Line(string name, long total)
    {
        public string Name { get; } = name;
        public long Total { get; } = total;
        public long Sent { get; set; }
        public string Phase { get; set; } = "waiting";
        public string? LastPrinted { get; set; }

        /// <summary>The conversion's percent once it runs; the bar shows it instead of the upload.</summary>
        public int? Converted { get; set; }
    }

    public Line Add(string name, long total)
    {
        lock (gate)
        {
            var line = new Line(name, total);
            lines.Add(line);
            return line;
        }
    }

    public void Update(Line line, string phase, long? sent = null)
    {
        lock (gate)
        {
            line.Phase = phase;
            if (sent is not null)
            {
                line.Sent = sent.Value;
            }

            if (!interactive && line.LastPrinted != phase)
            {
                line.LastPrinted = phase;
                output.WriteLine($"{line.Name}: {phase}");
            }
        }
    }

    /// <summary>The conversion is at <paramref name="percent"/>: the bar shows it, and the phase says it.</summary>
    public void Converting(Line line, int percent)
    {
        lock (gate)
        {
            line.Converted = Math.Clamp(percent, 0, 100);
        }

        Update(line, $"converting {line.Converted}%");
    }

    /// <summary>Redraws every line (terminal only); called on a timer and once at the end.</summary>
    public void Render()
    {
        if (!interactive)
        {
            return;
        }

        lock (gate)
        {
            if (drawn > 0)
            {
                output.Write($"\u001b[{drawn}A");
            }

            foreach (var line in lines)
            {
                var fraction = line.Converted is { } percent && !line.Phase.StartsWith("done", StringComparison.Ordinal) && line.Phase != "downloading"
                    ? percent / 100.0
                    : line.Total == 0 ? 1 : Math.Clamp((double)line.Sent / line.Total, 0, 1);
                var filled = (int)Math.Round(fraction * 24);
                var name = line.Name.Length > 28 ? line.Name[..25] + "..." : line.Name;
                output.WriteLine($"\u001b[2K{name,-28} [{new string('#', filled)}{new string('-', 24 - filled)}] {fraction,4:P0} {line.Phase}");
            }

            drawn = lines.Count;
            output.Flush();
        }
    }
}
