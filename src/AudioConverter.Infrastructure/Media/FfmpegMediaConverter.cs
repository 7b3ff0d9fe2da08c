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
/// ffmpeg as a child process: arguments as a list (no shell), only the file protocol,
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

    public async Task<ConversionResult> ConvertAsync(string inputPath, string outputPath, AudioFormat target, CancellationToken cancellationToken)
    {
        // ffmpeg reads the container, codec and duration itself: a separate ffprobe process would cost a quarter
        // of a short conversion's CPU. The demuxer whitelist keeps its format detection to audio containers.
        var arguments = new List<string>
        {
            "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info", "-y",
            "-progress", "pipe:1",
            "-protocol_whitelist", "file", "-format_whitelist", AllowedDemuxers,
            "-i", "file:" + inputPath,
            "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-t", settings.MaxDurationSeconds.ToString(CultureInfo.InvariantCulture),
            "-threads", settings.ThreadsPerConversion.ToString(CultureInfo.InvariantCulture),
        };
        arguments.AddRange(FormatEncoders.EncoderArguments(target, AudioConverter.Core.Conversion.ConversionOptionsParser.Parse([], target).Options!));
        arguments.AddRange(["-fs", settings.MaxOutputBytes.ToString(CultureInfo.InvariantCulture), "-f", FormatEncoders.Muxer(target), "file:" + outputPath]);

        var input = new InputReport { MaxDurationSeconds = settings.MaxDurationSeconds };
        var result = await RunAsync(settings.FfmpegPath, arguments, TimeSpan.FromSeconds(settings.ConversionTimeoutSeconds), input.ReadStderrLine, input.ReadProgressLine, cancellationToken);
        if (input.Refusal is not null)
        {
            throw new MediaException(input.Refusal, isInputFault: true);
        }

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
            throw new MediaException(input.Format is null ? DescribeInputFailure(result.Stderr) : DescribeConversionFailure(result.Stderr), isInputFault: true);
        }

        if (!File.Exists(outputPath) || new FileInfo(outputPath).Length == 0 || input.OutputSeconds is null or <= 0)
        {
            throw new MediaException("The file is not audio that can be decoded: the conversion produced no audio.", isInputFault: true);
        }

        return new ConversionResult(input.Format ?? "unknown", input.Codec, input.DurationSeconds, input.OutputSeconds);
    }

    /// <summary>What ffmpeg says about its input and progress, read line by line as it runs.</summary>
    private sealed class InputReport
    {
        public double MaxDurationSeconds { get; init; }
        public string? Format { get; private set; }
        public string? Codec { get; private set; }
        public double? DurationSeconds { get; private set; }
        public double? OutputSeconds { get; private set; }
        public string? Refusal { get; private set; }

        /// <summary>Returns a reason to stop ffmpeg at once, or null to let it go on.</summary>
        public string? ReadStderrLine(string line)
        {
            var trimmed = line.TrimStart();
            if (Format is null && trimmed.StartsWith("Input #0, ", StringComparison.Ordinal))
            {
                var rest = trimmed["Input #0, ".Length..];
                var from = rest.IndexOf(", from '", StringComparison.Ordinal);
                Format = from > 0 ? rest[..from] : rest;
            }
            else if (Format is not null && DurationSeconds is null && trimmed.StartsWith("Duration: ", StringComparison.Ordinal))
            {
                var value = trimmed["Duration: ".Length..].Split(',')[0];
                if (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var duration))
                {
                    DurationSeconds = duration.TotalSeconds;
                    if (MaxDurationSeconds > 0 && duration.TotalSeconds > MaxDurationSeconds)
                    {
                        Refusal = $"The audio is {FormatDuration(duration.TotalSeconds)} long; the limit is {FormatDuration(MaxDurationSeconds)}.";
                        return Refusal;
                    }
                }
            }
            else if (Codec is null && trimmed.StartsWith("Stream #0:", StringComparison.Ordinal) && trimmed.Contains(": Audio: ", StringComparison.Ordinal))
            {
                var codec = trimmed[(trimmed.IndexOf(": Audio: ", StringComparison.Ordinal) + ": Audio: ".Length)..];
                Codec = codec.Split([' ', ',', '('], 2)[0];
            }
            else if (trimmed.Contains("matches no streams", StringComparison.Ordinal))
            {
                Refusal = "The file has no audio stream to convert.";
                return Refusal;
            }

            return null;
        }

        public void ReadProgressLine(string line)
        {
            if (line.StartsWith("out_time_us=", StringComparison.Ordinal) && long.TryParse(line.AsSpan("out_time_us=".Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out var microseconds) && microseconds > 0)
            {
                OutputSeconds = microseconds / 1_000_000.0;
            }
        }

        private static string FormatDuration(double seconds)
        {
            var span = TimeSpan.FromSeconds(seconds);
            return span.TotalHours >= 1 ? $"{(int)span.TotalHours} h {span.Minutes} min" : $"{span.Minutes} min {span.Seconds} s";
        }
    }

    private static string DescribeConversionFailure(string stderr) =>
        stderr.Contains("Error while decoding", StringComparison.OrdinalIgnoreCase) || stderr.Contains("Invalid data", StringComparison.OrdinalIgnoreCase)
            ? "The file is damaged: its audio could not be decoded."
            : "The file could not be converted to this format.";

    private static string DescribeInputFailure(string stderr)
    {
        if (stderr.Contains("not on whitelist", StringComparison.OrdinalIgnoreCase))
        {
            return "The file refers to other files or addresses (a playlist or list); only a single audio file is accepted.";
        }

        return "The file is not audio that can be decoded.";
    }

    /// <summary>
    /// Runs a tool with arguments as a list (no shell), reading both outputs line by line. A stderr line for which
    /// <paramref name="inspectStderr"/> returns a reason stops the tool at once; so does the timeout.
    /// </summary>
    private static async Task<ToolResult> RunAsync(string tool, IReadOnlyList<string> arguments, TimeSpan timeout,
        Func<string, string?> inspectStderr, Action<string> readStdout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
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

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var stopped = new CancellationTokenSource();
        var stderr = new StringBuilder();
        var stderrTask = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync(CancellationToken.None) is { } line)
            {
                if (stderr.Length < MaxStderrChars)
                {
                    stderr.AppendLine(line.Length > 1000 ? line[..1000] : line);
                }

                if (!stopped.IsCancellationRequested && inspectStderr(line) is not null)
                {
                    await stopped.CancelAsync();
                }
            }
        }, CancellationToken.None);
        var stdoutTask = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
            {
                readStdout(line);
            }
        }, CancellationToken.None);

        using var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stopped.Token);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(either.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
        }

        await Task.WhenAll(stderrTask, stdoutTask);
        return new ToolResult(timedOut || stopped.IsCancellationRequested ? -1 : process.ExitCode, stderr.ToString(), timedOut);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Tool} exited with {ExitCode}: {Stderr}")]
    private static partial void LogToolFailed(ILogger logger, string tool, int exitCode, string stderr);

    private sealed record ToolResult(int ExitCode, string Stderr, bool TimedOut);
}
