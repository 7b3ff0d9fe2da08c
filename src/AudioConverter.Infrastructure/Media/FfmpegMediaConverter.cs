using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AudioConverter.Core.Media;
using AudioConverter.Core.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure.Media;

/// <summary>
/// ffprobe and ffmpeg as child processes: arguments as a list (no shell), only the file protocol,
/// only audio demuxers (no playlists), an explicit input format, a time limit and an output size cap.
/// </summary>
public sealed partial class FfmpegMediaConverter(IOptions<MediaOptions> options, ILogger<FfmpegMediaConverter> logger) : IMediaConverter
{
    /// <summary>Demuxers an input may be read with. HLS, concat, image and device demuxers are left out on purpose.</summary>
    public const string AllowedDemuxers =
        "mp3,wav,w64,ogg,flac,mov,mp4,m4a,3gp,3g2,mj2,aac,asf,aiff,caf,matroska,webm,amr,amrnb,amrwb,au,ape,wv,tta,mpc,mpc8,avi,ac3,eac3,dts,truehd,mlp,mpeg,mpegts,voc,sox,wsaud,xa,xwma,dsf,iff,mp2,s16le,s8,u8,alaw,mulaw";

    private const int MaxStderrChars = 16_384;

    // A tool killed by a signal it did not choose (the out-of-memory killer, an operator) says nothing about the input: retry.
    private const int KilledBySigKill = 128 + 9;
    private const int KilledBySigTerm = 128 + 15;
    private const string StoppedFromOutside = "The converter was stopped by the system before it finished.";
    private readonly MediaOptions settings = options.Value;

    public async Task<MediaProbe> ProbeAsync(string inputPath, CancellationToken cancellationToken)
    {
        string[] arguments =
        [
            "-v", "error", "-hide_banner",
            "-protocol_whitelist", "file", "-format_whitelist", AllowedDemuxers,
            "-show_entries", "format=format_name,duration:stream=codec_type,codec_name,duration",
            "-of", "json", "-i", "file:" + inputPath,
        ];
        var result = await RunAsync(settings.FfprobePath, arguments, TimeSpan.FromSeconds(settings.ProbeTimeoutSeconds), captureStdout: true, cancellationToken);
        if (result.TimedOut)
        {
            throw new MediaException($"Reading the file took longer than {settings.ProbeTimeoutSeconds} seconds; it is not audio that can be decoded.", isInputFault: true);
        }

        if (result.ExitCode is KilledBySigKill or KilledBySigTerm)
        {
            LogToolFailed(logger, "ffprobe", result.ExitCode, result.Stderr);
            throw new MediaException(StoppedFromOutside, isInputFault: false);
        }

        if (result.ExitCode != 0)
        {
            LogToolFailed(logger, "ffprobe", result.ExitCode, result.Stderr);
            throw new MediaException(DescribeInputFailure(result.Stderr), isInputFault: true);
        }

        return ParseProbe(result.Stdout);
    }

    public async Task ConvertAsync(string inputPath, MediaProbe probe, string outputPath, AudioFormat target, CancellationToken cancellationToken)
    {
        var arguments = new List<string>
        {
            "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-protocol_whitelist", "file", "-format_whitelist", AllowedDemuxers,
            "-f", probe.Demuxer, "-i", "file:" + inputPath,
            "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-t", settings.MaxDurationSeconds.ToString(CultureInfo.InvariantCulture),
            "-threads", settings.ThreadsPerConversion.ToString(CultureInfo.InvariantCulture),
        };
        arguments.AddRange(target.EncoderArguments);
        arguments.AddRange(["-fs", settings.MaxOutputBytes.ToString(CultureInfo.InvariantCulture), "-f", target.Muxer, "file:" + outputPath]);

        var result = await RunAsync(settings.FfmpegPath, arguments, TimeSpan.FromSeconds(settings.ConversionTimeoutSeconds), captureStdout: false, cancellationToken);
        if (result.TimedOut)
        {
            throw new MediaException($"The conversion took longer than the limit of {settings.ConversionTimeoutSeconds} seconds and was stopped.", isInputFault: true);
        }

        if (result.ExitCode is KilledBySigKill or KilledBySigTerm)
        {
            LogToolFailed(logger, "ffmpeg", result.ExitCode, result.Stderr);
            throw new MediaException(StoppedFromOutside, isInputFault: false);
        }

        if (result.ExitCode != 0)
        {
            LogToolFailed(logger, "ffmpeg", result.ExitCode, result.Stderr);
            throw new MediaException(DescribeInputFailure(result.Stderr), isInputFault: true);
        }

        if (!File.Exists(outputPath) || new FileInfo(outputPath).Length == 0)
        {
            throw new MediaException("The file is not audio that can be decoded: the conversion produced no audio.", isInputFault: true);
        }
    }

    private static MediaProbe ParseProbe(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var formatName = root.TryGetProperty("format", out var format) && format.TryGetProperty("format_name", out var name) ? name.GetString() ?? "" : "";
            var duration = format.ValueKind == JsonValueKind.Object && format.TryGetProperty("duration", out var d) ? ParseDouble(d.GetString()) : null;
            string? codec = null;
            if (root.TryGetProperty("streams", out var streams))
            {
                foreach (var stream in streams.EnumerateArray())
                {
                    if (stream.TryGetProperty("codec_type", out var type) && type.GetString() == "audio")
                    {
                        codec = stream.TryGetProperty("codec_name", out var c) ? c.GetString() ?? "unknown" : "unknown";
                        duration ??= stream.TryGetProperty("duration", out var sd) ? ParseDouble(sd.GetString()) : null;
                        break;
                    }
                }
            }

            if (formatName.Length == 0)
            {
                throw new MediaException("The file is not audio that can be decoded.", isInputFault: true);
            }

            return new MediaProbe(formatName, codec, duration, codec is not null);
        }
        catch (JsonException e)
        {
            throw new MediaException("The file is not audio that can be decoded.", isInputFault: true, e);
        }
    }

    private static double? ParseDouble(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;

    private static string DescribeInputFailure(string stderr)
    {
        if (stderr.Contains("not on whitelist", StringComparison.OrdinalIgnoreCase))
        {
            return "The file refers to other files or addresses (a playlist or list); only a single audio file is accepted.";
        }

        return "The file is not audio that can be decoded.";
    }

    private static async Task<ToolResult> RunAsync(string tool, IReadOnlyList<string> arguments, TimeSpan timeout, bool captureStdout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = captureStdout,
            RedirectStandardInput = false,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new MediaException($"The converter could not be started ('{tool}' is not installed or not on PATH).", isInputFault: false, e);
        }

        var stderrTask = ReadBoundedAsync(process.StandardError);
        var stdoutTask = captureStdout ? process.StandardOutput.ReadToEndAsync(CancellationToken.None) : Task.FromResult(string.Empty);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = !cancellationToken.IsCancellationRequested;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            await process.WaitForExitAsync(CancellationToken.None);
            if (!timedOut)
            {
                throw;
            }
        }

        var stderr = await stderrTask;
        var stdout = await stdoutTask;
        return new ToolResult(timedOut ? -1 : process.ExitCode, stdout, stderr, timedOut);
    }

    private static async Task<string> ReadBoundedAsync(StreamReader reader)
    {
        var builder = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer, CancellationToken.None)) > 0)
        {
            if (builder.Length < MaxStderrChars)
            {
                builder.Append(buffer, 0, Math.Min(read, MaxStderrChars - builder.Length));
            }
        }

        return builder.ToString();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Tool} exited with {ExitCode}: {Stderr}")]
    private static partial void LogToolFailed(ILogger logger, string tool, int exitCode, string stderr);

    private sealed record ToolResult(int ExitCode, string Stdout, string Stderr, bool TimedOut);
}
