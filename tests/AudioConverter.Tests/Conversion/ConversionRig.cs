using System.Globalization;
using System.Text.Json;
using AudioConverter.Core.Conversion;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AudioConverter.Tests.Conversion;

/// <summary>Makes real inputs with ffmpeg, converts them with the real converter, and measures outputs with ffprobe and ebur128.</summary>
public sealed class ConversionRig : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("ac-conversion-").FullName;

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    public static FfmpegMediaConverter Converter(MediaOptions? options = null, TimeProvider? clock = null) =>
        new(Options.Create(options ?? new MediaOptions()), NullLogger<FfmpegMediaConverter>.Instance, clock);

    /// <summary>Makes an input from lavfi sources: <paramref name="source"/> is the -i of lavfi, the rest are output arguments.</summary>
    public string Make(string name, string source, params string[] output)
    {
        var path = Path.Combine(Folder, name);
        AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", source, .. output, path]);
        return path;
    }

    /// <summary>Pink noise of a given length, rate and channel layout: a signal encoders must spend bits on.</summary>
    public string Noise(string name, double seconds, int rate = 44100, string layout = "stereo", params string[] output) =>
        Make(name, $"anoisesrc=color=pink:amplitude=0.3:sample_rate={rate}:duration={Str(seconds)}", ["-af", $"aformat=channel_layouts={layout}", .. output]);

    public static Task<ConversionResult> ConvertAsync(string input, string output, string format, params (string Name, string? Value)[] options) =>
        ConvertAsync(Converter(), input, output, format, options);

    public static Task<ConversionResult> ConvertAsync(FfmpegMediaConverter converter, string input, string output, string format, params (string Name, string? Value)[] options)
    {
        var target = AudioFormat.Find(format)!;
        var parsed = ConversionOptionsParser.Parse(options.Select(o => KeyValuePair.Create(o.Name, o.Value)), target);
        Assert.True(parsed.IsValid, string.Join(" ", parsed.Errors.Values.SelectMany(v => v)));
        return converter.ConvertAsync(new ConversionRequest(input, output, target, parsed.Options!), null, CancellationToken.None);
    }

    public string Out(string name) => Path.Combine(Folder, name);

    /// <summary>ffprobe's JSON of a file.</summary>
    public static JsonElement Probe(string path) =>
        JsonDocument.Parse(AudioSamples.Run("ffprobe", ["-v", "error", "-show_streams", "-show_format", "-of", "json", path])).RootElement;

    public static JsonElement Audio(JsonElement probe) => probe.GetProperty("streams").EnumerateArray().First(s => s.GetProperty("codec_type").GetString() == "audio");

    public static int SampleRate(string path) => int.Parse(Audio(Probe(path)).GetProperty("sample_rate").GetString()!, CultureInfo.InvariantCulture);

    public static int Channels(string path) => Audio(Probe(path)).GetProperty("channels").GetInt32();

    /// <summary>The length of the audio as decoded (not as any header claims).</summary>
    public static double DecodedSeconds(string path)
    {
        var progress = AudioSamples.Run("ffmpeg", ["-v", "error", "-nostdin", "-i", path, "-map", "0:a:0", "-progress", "pipe:1", "-f", "null", "-"]);
        return progress.Split('\n').Select(FfmpegOutputParser.ProgressSeconds).Where(s => s is not null).Max()!.Value;
    }

    /// <summary>A tag as ffprobe reads it, from the container or the audio stream.</summary>
    public static string? Tag(string path, string name)
    {
        var probe = Probe(path);
        foreach (var holder in new[] { probe.GetProperty("format"), Audio(probe) })
        {
            if (holder.TryGetProperty("tags", out var tags))
            {
                foreach (var tag in tags.EnumerateObject())
                {
                    if (tag.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                    {
                        return tag.Value.GetString();
                    }
                }
            }
        }

        return null;
    }

    public static bool HasCoverArt(string path) =>
        Probe(path).GetProperty("streams").EnumerateArray().Any(s => s.GetProperty("codec_type").GetString() == "video" && s.GetProperty("disposition").GetProperty("attached_pic").GetInt32() == 1);

    /// <summary>ebur128's measurement of a file, independent of the converter's own analysis.</summary>
    public static LoudnessFacts Loudness(string path)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-nostdin", "-hide_banner", "-nostats", "-i", path, "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-" })
        {
            start.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return FfmpegOutputParser.ParseEbur128Summary(stderr)!;
    }

    private static string Str(double value) => value.ToString(CultureInfo.InvariantCulture);
}
