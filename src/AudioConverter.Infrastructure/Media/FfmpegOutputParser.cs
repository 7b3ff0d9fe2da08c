using System.Globalization;
using System.Text.Json;

namespace AudioConverter.Infrastructure.Media;

/// <summary>What ffprobe found in a file: the first audio stream's facts, the container's tags and any cover art.</summary>
public sealed record ProbedMedia(MediaFacts Facts, bool HasCoverArt, bool TagsOnStream);

/// <summary>The first loudnorm pass's measurements, fed to the second pass.</summary>
public sealed record LoudnormMeasurement(double InputI, double InputTp, double InputLra, double InputThresh, double TargetOffset);

/// <summary>Reads what ffprobe and ffmpeg print: probe JSON, -progress lines, loudnorm's JSON, ebur128's summary, peaks.</summary>
public static class FfmpegOutputParser
{
    /// <summary>Reads ffprobe's <c>-show_streams -show_format -of json</c>; null when it holds no audio stream.</summary>
    public static ProbedMedia? ParseProbe(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (!root.TryGetProperty("streams", out var streams) || streams.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        JsonElement? audio = null;
        var cover = false;
        foreach (var stream in streams.EnumerateArray())
        {
            var type = Text(stream, "codec_type");
            if (type == "audio" && audio is null)
            {
                audio = stream;
            }
            else if (type == "video" && stream.TryGetProperty("disposition", out var disposition) && disposition.TryGetProperty("attached_pic", out var pic) && pic.ValueKind == JsonValueKind.Number && pic.GetInt32() == 1
                && Text(stream, "codec_name") is "mjpeg" or "png")
            {
                cover = true;
            }
        }

        if (audio is not { } a)
        {
            return null;
        }

        root.TryGetProperty("format", out var format);
        var container = format.ValueKind == JsonValueKind.Object ? Text(format, "format_name") ?? "unknown" : "unknown";
        var duration = Number(a, "duration") ?? (format.ValueKind == JsonValueKind.Object ? Number(format, "duration") : null);
        var bitrate = Number(a, "bit_rate") ?? (format.ValueKind == JsonValueKind.Object ? Number(format, "bit_rate") : null);
        var formatTags = format.ValueKind == JsonValueKind.Object && format.TryGetProperty("tags", out var ft) && ft.EnumerateObject().Any(p => !p.Name.Equals("encoder", StringComparison.OrdinalIgnoreCase));
        var streamTags = a.TryGetProperty("tags", out var st) && st.EnumerateObject().Any(p => !p.Name.Equals("encoder", StringComparison.OrdinalIgnoreCase) && !p.Name.StartsWith("vendor", StringComparison.OrdinalIgnoreCase));
        var facts = new MediaFacts(
            container,
            Text(a, "codec_name") ?? "unknown",
            (int)(Number(a, "sample_rate") ?? 0),
            a.TryGetProperty("channels", out var ch) && ch.ValueKind == JsonValueKind.Number ? ch.GetInt32() : 0,
            bitrate is > 0 ? (int)Math.Round(bitrate.Value / 1000) : null,
            duration is > 0 ? Math.Round(duration.Value, 3) : null);
        return new ProbedMedia(facts, cover, streamTags && !formatTags);
    }

    /// <summary>The output time of a -progress line (<c>out_time_us=</c>), in seconds; null for any other line.</summary>
    public static double? ProgressSeconds(string line)
    {
        const string Key = "out_time_us=";
        return line.StartsWith(Key, StringComparison.Ordinal) && long.TryParse(line.AsSpan(Key.Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out var microseconds) && microseconds >= 0
            ? microseconds / 1_000_000.0
            : null;
    }

    /// <summary>Progress in percent of <paramref name="expectedSeconds"/>, held below 100 until the run ends.</summary>
    public static int Percent(double seconds, double? expectedSeconds) =>
        expectedSeconds is > 0 ? (int)Math.Clamp(Math.Floor(seconds / expectedSeconds.Value * 100), 0, 99) : 0;

    /// <summary>Reads loudnorm's <c>print_format=json</c> block from ffmpeg's stderr; null when absent or silent (-inf).</summary>
    public static LoudnormMeasurement? ParseLoudnorm(string stderr)
    {
        var start = stderr.LastIndexOf("\"input_i\"", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var open = stderr.LastIndexOf('{', start);
        var close = stderr.IndexOf('}', start);
        if (open < 0 || close < 0)
        {
            return null;
        }

        using var document = JsonDocument.Parse(stderr[open..(close + 1)]);
        var root = document.RootElement;
        var i = Number(root, "input_i");
        var tp = Number(root, "input_tp");
        var lra = Number(root, "input_lra");
        var thresh = Number(root, "input_thresh");
        var offset = Number(root, "target_offset");
        return i is { } ii && tp is { } t && lra is { } l && thresh is { } th && offset is { } o && double.IsFinite(ii) && double.IsFinite(t) && double.IsFinite(th) && double.IsFinite(o)
            ? new LoudnormMeasurement(ii, t, l, th, o)
            : null;
    }

    /// <summary>Reads the summary ebur128 (with <c>peak=true</c>) prints at the end; null when absent or silent.</summary>
    public static LoudnessFacts? ParseEbur128Summary(string stderr)
    {
        var summary = stderr.LastIndexOf("Summary:", StringComparison.Ordinal);
        if (summary < 0)
        {
            return null;
        }

        double? integrated = null, range = null, peak = null;
        foreach (var raw in stderr[summary..].Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("I:", StringComparison.Ordinal))
            {
                integrated = LeadingNumber(line[2..]);
            }
            else if (line.StartsWith("LRA:", StringComparison.Ordinal))
            {
                range = LeadingNumber(line[4..]);
            }
            else if (line.StartsWith("Peak:", StringComparison.Ordinal))
            {
                peak = LeadingNumber(line[5..]);
            }
        }

        return integrated is { } i && range is { } r && peak is { } p && double.IsFinite(i) && double.IsFinite(p) ? new LoudnessFacts(i, r, p) : null;
    }

    /// <summary>
    /// Reads the file ametadata writes for <c>lavfi.astats.Overall.Peak_level</c> (dBFS per frame) into linear peaks
    /// from 0 to 1, three decimals.
    /// </summary>
    public static IReadOnlyList<double> ParsePeaks(IEnumerable<string> lines)
    {
        const string Key = "lavfi.astats.Overall.Peak_level=";
        var peaks = new List<double>();
        foreach (var line in lines)
        {
            if (!line.StartsWith(Key, StringComparison.Ordinal))
            {
                continue;
            }

            var value = line[Key.Length..].Trim();
            var linear = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var db) && double.IsFinite(db) ? Math.Pow(10, db / 20) : 0;
            peaks.Add(Math.Round(Math.Clamp(linear, 0, 1), 3));
        }

        return peaks;
    }

    /// <summary>Reduces peaks to at most <paramref name="points"/> by taking each group's maximum.</summary>
    public static IReadOnlyList<double> Downsample(IReadOnlyList<double> peaks, int points)
    {
        if (points <= 0 || peaks.Count <= points)
        {
            return peaks;
        }

        var result = new double[points];
        for (var i = 0; i < points; i++)
        {
            var from = (int)((long)i * peaks.Count / points);
            var to = (int)((long)(i + 1) * peaks.Count / points);
            var max = 0.0;
            for (var j = from; j < Math.Max(to, from + 1); j++)
            {
                max = Math.Max(max, peaks[j]);
            }

            result[i] = max;
        }

        return result;
    }

    /// <summary>What a failed ffmpeg or ffprobe run says, as a sentence for the task's owner; null when nothing specific is recognised.</summary>
    public static string? DescribeFailure(string stderr)
    {
        if (stderr.Contains("not on whitelist", StringComparison.OrdinalIgnoreCase))
        {
            return "The file refers to other files or addresses (a playlist or list); only a single audio file is accepted.";
        }

        if (stderr.Contains("Cannot allocate memory", StringComparison.OrdinalIgnoreCase) || stderr.Contains("Out of memory", StringComparison.OrdinalIgnoreCase)
            || stderr.Contains("std::bad_alloc", StringComparison.Ordinal))
        {
            return MemoryExhausted;
        }

        if (stderr.Contains("Error while decoding", StringComparison.OrdinalIgnoreCase) || stderr.Contains("Invalid data", StringComparison.OrdinalIgnoreCase))
        {
            return "The file is damaged: its audio could not be decoded.";
        }

        return null;
    }

    /// <summary>The marker <see cref="DescribeFailure"/> returns for an allocation failure; the converter adds the limit.</summary>
    public const string MemoryExhausted = "memory";

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double? Number(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.GetDouble();
        }

        var text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        return text switch
        {
            null => null,
            "-inf" => double.NegativeInfinity,
            "inf" or "+inf" => double.PositiveInfinity,
            _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null,
        };
    }

    private static double? LeadingNumber(string text)
    {
        var token = text.Trim().Split(' ', 2)[0];
        return token switch
        {
            "-inf" => double.NegativeInfinity,
            _ => double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null,
        };
    }
}
