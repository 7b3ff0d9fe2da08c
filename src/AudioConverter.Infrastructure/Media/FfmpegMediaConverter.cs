using System.Diagnostics;
using AudioConverter.Core.Conversion;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure.Media;

/// <summary>
/// A conversion in its steps: probe the input, plan (<see cref="FfmpegArguments"/>), measure loudness when
/// normalising, convert with progress (taking the waveform's peaks in the same run when it encodes), then verify the
/// output (container, codec, rate, channels, measured length) and measure its loudness when asked. The worker hashes the
/// output as it stores it. Every run goes through <see cref="FfmpegProcessRunner"/>.
/// </summary>
public sealed partial class FfmpegMediaConverter(IOptions<MediaOptions> options, ILogger<FfmpegMediaConverter> logger, TimeProvider? clock = null) : IMediaConverter
{
    // A tool killed by a signal it did not choose (the out-of-memory killer, an operator) says nothing about the input: retry.
    private const int KilledBySigKill = 128 + 9;
    private const int KilledBySigTerm = 128 + 15;
    private const string StoppedFromOutside = "The converter was stopped by the system before it finished.";
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    private readonly MediaOptions settings = options.Value;
    private readonly FfmpegProcessRunner runner = new(options.Value);
    private readonly TimeProvider time = clock ?? TimeProvider.System;

    private MediaLimits Limits => new(settings.MaxDurationSeconds, settings.MaxOutputBytes, settings.ThreadsPerConversion);

    /// <summary>Converts with the target's default options (no progress).</summary>
    public Task<ConversionResult> ConvertAsync(string inputPath, string outputPath, AudioFormat target, CancellationToken cancellationToken) =>
        ConvertAsync(new ConversionRequest(inputPath, outputPath, target, ConversionOptionsParser.Parse([], target).Options!), null, cancellationToken);

    public async Task<ConversionResult> ConvertAsync(ConversionRequest request, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        TimeSpan Remaining() => settings.ConversionTimeout - Stopwatch.GetElapsedTime(started);
        var headerless = HeaderlessFormat.ForPath(request.InputPath);

        var input = await ProbeAsync(request.InputPath, headerless, Remaining(), isOutput: false, cancellationToken);
        await CheckDurationAsync(input, request.InputPath, headerless, Remaining(), cancellationToken);
        var notes = new List<string>();
        var plan = FfmpegArguments.Plan(input, request.Target, request.Options, headerless);
        notes.AddRange(plan.Notes);

        LoudnormMeasurement? measured = null;
        if (request.Options.Loudness is not null && !plan.Copy)
        {
            var pass = await RunFfmpegAsync(FfmpegArguments.MeasureLoudness(plan, request.InputPath, Limits), Remaining(), null, cancellationToken);
            measured = FfmpegOutputParser.ParseLoudnorm(pass.Run.Stderr);
            if (measured is null)
            {
                notes.Add("The audio is silent, so it has no loudness to normalise; it was left as it is.");
            }
        }

        var peaksPath = PeaksPath(request.OutputPath);
        try
        {
            var reporter = new ProgressReporter(progress, plan.ExpectedSeconds, time);
            var tap = PeaksTapFor(plan, peaksPath);
            var conversion = await RunFfmpegAsync(FfmpegArguments.Convert(plan, request.InputPath, request.OutputPath, Limits, measured, tap), Remaining(), reporter.Report, cancellationToken);
            var measuredSeconds = conversion.Seconds;
            var bytes = CheckOutput(plan, request.OutputPath, measuredSeconds, conversion.Run.Stderr);
            var headerRight = plan.ExpectedSeconds is not { } expected || Math.Abs(expected - measuredSeconds) <= Math.Max(1, expected * 0.02);
            if (!headerRight && plan.Length is null)
            {
                notes.Add($"The input's header says it lasts {Seconds(plan.ExpectedSeconds!.Value + (plan.Start ?? 0))} s, but its audio lasts {Seconds(measuredSeconds + (plan.Start ?? 0))} s; the measured length counts.");
            }

            var output = await VerifyAsync(plan, request.OutputPath, measuredSeconds, Remaining(), cancellationToken);
            var loudness = await AnalyzeAsync(request, Remaining(), cancellationToken);

            // The tap's points were spaced by the header's length: when the audio's own length differs, or for a copy,
            // the peaks come from a pass over the output spaced by the measured length.
            var peaks = tap is not null && headerRight
                ? await ReadPeaksAsync(peaksPath, cancellationToken)
                : await PeaksAsync(request.OutputPath, measuredSeconds, peaksPath, Remaining(), cancellationToken);
            return Result(plan, input, notes, output with { Bytes = bytes, Loudness = loudness }, peaks, measuredSeconds);
        }
        finally
        {
            File.Delete(peaksPath);
        }
    }

    /// <summary>The peaks taken by the converting ffmpeg: for an encoding whose length is known beforehand.</summary>
    private PeaksTap? PeaksTapFor(ConversionPlan plan, string peaksPath) =>
        plan.Copy || plan.ExpectedSeconds is not { } expected || expected <= 0
            ? null
            : new PeaksTap(peaksPath, FfmpegArguments.SamplesPerPoint(Math.Min(expected, settings.MaxDurationSeconds), settings.WaveformPoints));

    /// <summary>The output's loudness, measured with ebur128, when normalising or asked for.</summary>
    private async Task<LoudnessFacts?> AnalyzeAsync(ConversionRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (request.Options.Loudness is null && !request.Options.Analyze)
        {
            return null;
        }

        var analysis = await RunFfmpegAsync(FfmpegArguments.AnalyzeLoudness(request.OutputPath), timeout, null, cancellationToken);
        return FfmpegOutputParser.ParseEbur128Summary(analysis.Run.Stderr);
    }

    /// <summary>
    /// The result, with the input's length as measured unless only a part of it was decoded. The output's SHA-256 is
    /// left empty: the worker takes it in the read that stores the file (<see cref="Core.Storage.IBlobStore.PutFileAsync"/>).
    /// </summary>
    private static ConversionResult Result(ConversionPlan plan, ProbedMedia input, List<string> notes, OutputFacts output, IReadOnlyList<double> peaks, double measuredSeconds)
    {
        var inputFacts = input.Facts with { DurationSeconds = Math.Round(measuredSeconds + (plan.Start ?? 0), 3) };
        if (plan.Length is not null)
        {
            // Only the kept part was decoded; the input's own length is what its header says.
            inputFacts = input.Facts;
        }

        return new ConversionResult(!plan.Copy, notes, inputFacts, output, peaks);
    }

    /// <summary>Refuses an input whose header claims more than the limit, if its audio really goes on past it.</summary>
    private async Task CheckDurationAsync(ProbedMedia input, string inputPath, HeaderlessFormat? headerless, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (input.Facts.DurationSeconds is { } claimed && claimed > settings.MaxDurationSeconds)
        {
            // A header can lie either way: refuse only if audio really goes on past the limit.
            var past = await RunFfmpegAsync(FfmpegArguments.DecodesPast(inputPath, headerless, settings.MaxDurationSeconds), timeout, null, cancellationToken);
            if (past.Seconds > 0)
            {
                throw new MediaException($"The audio is {FormatDuration(claimed)} long; the limit is {FormatDuration(settings.MaxDurationSeconds)}.", isInputFault: true);
            }
        }
    }

    /// <summary>The output's size, once it is known to hold audio and not to have been cut short by a limit.</summary>
    private long CheckOutput(ConversionPlan plan, string outputPath, double measuredSeconds, string stderr)
    {
        if (!File.Exists(outputPath))
        {
            // ffmpeg finished without an error, so it wrote the file: something else removed it, which is no fault of the input.
            throw new MediaException("The converted file disappeared from the work folder before it could be checked.", isInputFault: false);
        }

        if (NoSpaceLeft(stderr))
        {
            // ffmpeg exits 0 with an empty file when the work folder's disk is full ("Error writing trailer ... No space left on device").
            throw new MediaException("The worker's temp folder ran out of space while the file was converted.", isInputFault: false);
        }

        if (new FileInfo(outputPath).Length == 0 || measuredSeconds <= 0)
        {
            throw new MediaException("The file is not audio that can be decoded: the conversion produced no audio.", isInputFault: true);
        }

        var bytes = new FileInfo(outputPath).Length;
        if (bytes >= settings.MaxOutputBytes - 64 * 1024)
        {
            throw new MediaException($"The output reached the size limit of {FormatBytes(settings.MaxOutputBytes)} and was cut short; choose a lower bitrate or sample rate, or a shorter part.", isInputFault: true);
        }

        if (plan.Length is null && measuredSeconds >= settings.MaxDurationSeconds - 0.05)
        {
            throw new MediaException($"The audio is longer than the limit of {FormatDuration(settings.MaxDurationSeconds)}; the conversion stopped there. Convert a shorter part with start and end.", isInputFault: true);
        }

        return bytes;
    }

    /// <summary>A file next to the output for ametadata to write the peaks to.</summary>
    private static string PeaksPath(string outputPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outputPath))!, "peaks-" + Guid.NewGuid().ToString("N") + ".txt");

    /// <summary>The output's waveform from a pass of its own over the output (a copy, or a header that was wrong about the length).</summary>
    private async Task<IReadOnlyList<double>> PeaksAsync(string outputPath, double measuredSeconds, string peaksPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        File.Delete(peaksPath);
        await RunFfmpegAsync(FfmpegArguments.Peaks(outputPath, measuredSeconds, settings.WaveformPoints, peaksPath), timeout, null, cancellationToken);
        return await ReadPeaksAsync(peaksPath, cancellationToken);
    }

    /// <summary><see cref="MediaOptions.WaveformPoints"/> peaks, read from the file ffmpeg wrote.</summary>
    private async Task<IReadOnlyList<double>> ReadPeaksAsync(string peaksPath, CancellationToken cancellationToken) =>
        File.Exists(peaksPath)
            ? FfmpegOutputParser.Downsample(FfmpegOutputParser.ParsePeaks(await File.ReadAllLinesAsync(peaksPath, cancellationToken)), settings.WaveformPoints)
            : [];

    private async Task<ProbedMedia> ProbeAsync(string path, HeaderlessFormat? headerless, TimeSpan timeout, bool isOutput, CancellationToken cancellationToken)
    {
        var json = new System.Text.StringBuilder();
        var run = await runner.RunAsync(settings.FfprobePath, FfmpegArguments.Probe(path, headerless), timeout, null, line => json.AppendLine(line), cancellationToken);
        ThrowOnFailure(run, "ffprobe", isInputFault: !isOutput);
        var probed = run.ExitCode == 0 && json.Length > 0 ? Parse(json.ToString()) : null;
        if (probed is null || probed.Facts.SampleRate <= 0 || probed.Facts.Channels <= 0)
        {
            var reason = FfmpegOutputParser.DescribeFailure(run.Stderr);
            if (isOutput)
            {
                throw new MediaException("The converted file could not be read back; convert it again.", isInputFault: false);
            }

            throw new MediaException(reason is not null && reason != FfmpegOutputParser.MemoryExhausted ? reason
                : probed is null && run.ExitCode == 0 ? "The file has no audio stream to convert." : "The file is not audio that can be decoded.", isInputFault: true);
        }

        return probed;
    }

    private static ProbedMedia? Parse(string json)
    {
        try
        {
            return FfmpegOutputParser.ParseProbe(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Reads the output back and checks it is what was asked for.</summary>
    private async Task<OutputFacts> VerifyAsync(ConversionPlan plan, string outputPath, double measuredSeconds, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var probed = await ProbeAsync(outputPath, null, timeout, isOutput: true, cancellationToken);
        var facts = probed.Facts;
        var problems = new List<string>();
        var container = FormatEncoders.ProbedContainer(plan.Target);
        if (!facts.Container.Split(',').Contains(container))
        {
            problems.Add($"its container is {facts.Container}, not {container}");
        }

        if (facts.Codec != plan.Target.Codec)
        {
            problems.Add($"its codec is {facts.Codec}, not {plan.Target.Codec}");
        }

        // Opus always decodes at 48 kHz whatever rate it was encoded from.
        var expectedRate = plan.Target.Name == "opus" ? 48000 : plan.SampleRate;
        if (facts.SampleRate != expectedRate)
        {
            problems.Add($"its sample rate is {facts.SampleRate} Hz, not {expectedRate} Hz");
        }

        if (facts.Channels != plan.Channels)
        {
            problems.Add($"it has {facts.Channels} channels, not {plan.Channels}");
        }

        // ADTS has no index: its length is an estimate from the bitrate.
        var tolerance = Math.Max(0.5, measuredSeconds * (plan.Target.Name == "aac" ? 0.10 : 0.03));
        if (facts.DurationSeconds is { } read && Math.Abs(read - measuredSeconds) > tolerance)
        {
            problems.Add($"it lasts {Seconds(read)} s, not the {Seconds(measuredSeconds)} s written");
        }

        if (problems.Count > 0)
        {
            LogVerificationFailed(logger, string.Join("; ", problems));
            throw new MediaException($"The converted file is not what was asked for: {string.Join("; ", problems)}.", isInputFault: true);
        }

        return new OutputFacts(facts.Container, facts.Codec, facts.SampleRate, facts.Channels, facts.Bitrate, Math.Round(measuredSeconds, 3), 0, "", null);
    }

    /// <summary>Runs ffmpeg and returns its run with the last output time it reported; throws for failures.</summary>
    private async Task<(ToolRun Run, double Seconds)> RunFfmpegAsync(IReadOnlyList<string> arguments, TimeSpan timeout, Action<double>? onProgress, CancellationToken cancellationToken)
    {
        var seconds = 0.0;
        var run = await runner.RunAsync(settings.FfmpegPath, arguments, timeout, RefusesInput, line =>
        {
            if (FfmpegOutputParser.ProgressSeconds(line) is { } s)
            {
                seconds = Math.Max(seconds, s);
                onProgress?.Invoke(s);
            }
        }, cancellationToken);
        ThrowOnFailure(run, "ffmpeg", isInputFault: true);
        return (run, seconds);
    }

    private static bool NoSpaceLeft(string stderr) => stderr.Contains("No space left on device", StringComparison.Ordinal);

    private static bool RefusesInput(string line) => line.Contains("matches no streams", StringComparison.Ordinal);

    private void ThrowOnFailure(ToolRun run, string tool, bool isInputFault)
    {
        if (run.TimedOut)
        {
            throw new MediaException($"The conversion took longer than the limit of {settings.ConversionTimeoutSeconds} seconds and was stopped.", isInputFault: true);
        }

        if (run.Refused)
        {
            throw new MediaException("The file has no audio stream to convert.", isInputFault: true);
        }

        if (run.ExitCode == 0)
        {
            return;
        }

        LogToolFailed(logger, tool, run.ExitCode, run.Stderr);
        if (run.ExitCode is KilledBySigKill or KilledBySigTerm)
        {
            throw new MediaException(StoppedFromOutside, isInputFault: false);
        }

        if (NoSpaceLeft(run.Stderr))
        {
            throw new MediaException("The worker's temp folder ran out of space while the file was converted.", isInputFault: false);
        }

        var reason = FfmpegOutputParser.DescribeFailure(run.Stderr);
        if (reason == FfmpegOutputParser.MemoryExhausted)
        {
            // Under prlimit an allocation fails inside the tool: the same input would fail again, so no retry.
            throw new MediaException($"The conversion needed more than the memory limit of {settings.MemoryLimitMegabytes} MiB and was stopped.", isInputFault: true);
        }

        if (tool == "ffprobe")
        {
            return;
        }

        throw new MediaException(reason ?? (isInputFault ? "The file could not be converted to this format." : "The converter failed."), isInputFault);
    }

    /// <summary>Turns output times into percentages, reported at most once per interval and only when they change.</summary>
    private sealed class ProgressReporter(IProgress<int>? progress, double? expectedSeconds, TimeProvider time)
    {
        private long lastReport = long.MinValue;
        private int lastPercent = -1;

        public void Report(double seconds)
        {
            if (progress is null)
            {
                return;
            }

            var percent = FfmpegOutputParser.Percent(seconds, expectedSeconds);
            var now = time.GetUtcNow().UtcTicks;
            if (percent == lastPercent || (lastReport != long.MinValue && TimeSpan.FromTicks(now - lastReport) < ProgressInterval))
            {
                return;
            }

            lastReport = now;
            lastPercent = percent;
            progress.Report(percent);
        }
    }

    private static string FormatDuration(double seconds)
    {
        var span = TimeSpan.FromSeconds(seconds);
        return span.TotalHours >= 1 ? $"{(int)span.TotalHours} h {span.Minutes} min" : $"{span.Minutes} min {span.Seconds} s";
    }

    private static string FormatBytes(long bytes) => bytes >= 1024 * 1024 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes / 1024} KiB";

    private static string Seconds(double value) => value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Tool} exited with {ExitCode}: {Stderr}")]
    private static partial void LogToolFailed(ILogger logger, string tool, int exitCode, string stderr);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A converted file failed verification: {Problems}")]
    private static partial void LogVerificationFailed(ILogger logger, string problems);
}
