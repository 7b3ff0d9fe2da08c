using System.Collections.Concurrent;
using AudioConverter.Tests.Faults;

namespace AudioConverter.Tests.Fixtures;

/// <summary>Real audio made by ffmpeg for the tests, cached per run.</summary>
public static class AudioSamples
{
    private static readonly ConcurrentDictionary<string, Lazy<byte[]>> Cache = new();
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), "ac-samples", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A few seconds of a two-tone stereo signal encoded with the given extension's usual codec.</summary>
    public static byte[] Get(string extension, double seconds = 3) =>
        Cache.GetOrAdd($"{extension}-{seconds}", _ => new Lazy<byte[]>(() => Make(extension, seconds))).Value;

    public static string PathOf(string extension, double seconds = 3)
    {
        var bytes = Get(extension, seconds);
        var path = Path.Combine(Folder, $"sample-{seconds}.{extension}");
        if (!File.Exists(path))
        {
            File.WriteAllBytes(path, bytes);
        }

        return path;
    }

    private static byte[] Make(string extension, double seconds)
    {
        Directory.CreateDirectory(Folder);
        var output = Path.Combine(Folder, $"{Guid.NewGuid():N}.{extension}");
        string[] codec = extension switch
        {
            "mp3" => ["-c:a", "libmp3lame", "-b:a", "128k"],
            "wav" => ["-c:a", "pcm_s16le"],
            "ogg" => ["-c:a", "libvorbis"],
            "m4a" => ["-c:a", "aac"],
            "aac" => ["-c:a", "aac", "-f", "adts"],
            "flac" => ["-c:a", "flac"],
            "opus" => ["-c:a", "libopus", "-ar", "48000"],
            "wma" => ["-c:a", "wmav2"],
            _ => throw new ArgumentException($"no recipe for {extension}", nameof(extension)),
        };
        Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", $"sine=frequency=440:duration={seconds}", "-f", "lavfi", "-i", $"sine=frequency=660:duration={seconds}",
            "-filter_complex", "[0:a][1:a]join=inputs=2:channel_layout=stereo", "-ar", "44100", .. codec, output]);
        var bytes = File.ReadAllBytes(output);
        File.Delete(output);
        return bytes;
    }

    /// <summary>Runs ffmpeg or ffprobe through the tests' one tool runner and returns what it printed on standard output.</summary>
    public static string Run(string tool, IEnumerable<string> arguments) => ExternalCommand.Run(tool, arguments, TimeSpan.FromMinutes(5));

    /// <summary>ffprobe's view of a file: container, codec of the first audio stream, duration.</summary>
    public static (string Format, string Codec, double Duration) Probe(byte[] content, string extension)
    {
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, $"{Guid.NewGuid():N}.{extension}");
        File.WriteAllBytes(path, content);
        try
        {
            var csv = Run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "format=format_name,duration:stream=codec_name", "-of", "default=noprint_wrappers=1", path]);
            var values = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            return (values["format_name"], values["codec_name"], double.Parse(values["duration"], System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
