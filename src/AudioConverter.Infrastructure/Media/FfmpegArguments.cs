using System.Globalization;
using AudioConverter.Core.Conversion;

namespace AudioConverter.Infrastructure.Media;

/// <summary>The limits every ffmpeg run is held to.</summary>
public sealed record MediaLimits(double MaxDurationSeconds, long MaxOutputBytes, int Threads);

/// <summary>
/// What one conversion will do, decided from the input's facts, the target and the options before ffmpeg runs:
/// copy or encode, the output's rate and channels, the part of the input kept, and notes on what was changed.
/// </summary>
public sealed record ConversionPlan(
    AudioFormat Target,
    ConversionOptions Options,
    HeaderlessFormat? Headerless,
    bool Copy,
    int SampleRate,
    int Channels,
    double? Start,
    double? Length,
    double? ExpectedSeconds,
    bool MapCover,
    bool TagsFromStream,
    IReadOnlyList<string> Notes);

/// <summary>
/// The waveform's peaks taken by the converting ffmpeg itself: the file ametadata writes them to, and how many samples
/// (at <see cref="FfmpegArguments.PeaksRate"/>) make one point.
/// </summary>
public sealed record PeaksTap(string Path, int SamplesPerPoint);

/// <summary>
/// The argument lists of every ffmpeg and ffprobe run, as pure functions of the input's facts, the target and the
/// options. Arguments are a list (no shell); only the file protocol and whitelisted audio demuxers are allowed.
/// </summary>
public static class FfmpegArguments
{
    /// <summary>Demuxers an input may be read with. HLS, concat, image and device demuxers are left out on purpose.</summary>
    public const string AllowedDemuxers =
        "mp3,wav,w64,ogg,flac,mov,mp4,m4a,3gp,3g2,mj2,aac,asf,aiff,caf,matroska,webm,amr,amrnb,amrwb,au,ape,wv,tta,mpc,mpc8,avi,ac3,eac3,dts,truehd,mlp,mpeg,mpegts,voc,sox,wsaud,xa,xwma,dsf,iff,mp2,s16le,s8,u8,alaw,mulaw,g722,gsm";

    /// <summary>The loudness range loudnorm aims at unless the input's is wider (a wider one stays, so the gain can stay linear).</summary>
    public const double DefaultLoudnessRange = 7;

    /// <summary>Headroom kept below the true-peak ceiling for lossy targets, whose encoders overshoot peaks slightly.</summary>
    public const double LossyPeakMargin = 0.5;

    /// <summary>The rate the waveform's peaks are measured at: enough for a drawing, cheap to take.</summary>
    public const int PeaksRate = 8000;

    /// <summary>Decides what the conversion does. Throws <see cref="MediaException"/> when the kept part would be empty.</summary>
    public static ConversionPlan Plan(ProbedMedia input, AudioFormat target, ConversionOptions options, HeaderlessFormat? headerless)
    {
        var notes = new List<string>();
        var facts = input.Facts;
        var caps = target.Capabilities;

        var rate = options.SampleRate ?? facts.SampleRate;
        if (options.SampleRate is null && !target.TakesSampleRate(rate))
        {
            rate = target.NearestSampleRate(rate);
            notes.Add($"The input's sample rate of {facts.SampleRate} Hz is not one {target.Name} takes; the output is {rate} Hz.");
        }

        var channels = options.Channels ?? facts.Channels;
        if (options.Channels is null && channels > caps.MaxChannels)
        {
            channels = caps.MaxChannels;
            notes.Add($"The input has {facts.Channels} channels; {target.Name} holds at most {caps.MaxChannels}, so they are mixed down to {Channels(channels)}.");
        }

        var (start, end) = KeptPart(facts, options, notes);
        double? length = end is { } kept ? kept - (start ?? 0) : null;
        var expected = length ?? (facts.DurationSeconds is { } d ? d - (start ?? 0) : null);

        var copy = !options.ChangesAudio
            && facts.Codec == target.Codec
            && rate == facts.SampleRate
            && channels == facts.Channels
            && IsDefaultRecipe(target, options);
        if (copy)
        {
            notes.Add($"The input's {facts.Codec} audio is already what {target.Name} holds: it is copied, not encoded again.");
        }

        if (options.FadeOut is not null && expected is null)
        {
            notes.Add("The input's length is not known, so fadeOut could not be placed and was left out.");
        }

        var mapCover = !options.StripMetadata && caps.CoverArt && input.HasCoverArt;
        return new ConversionPlan(target, options, headerless, copy, rate, channels, start, length, expected, mapCover, input.TagsOnStream, notes);
    }

    /// <summary>The part of the input kept: start and end checked against its length; null for the input's own start or end.</summary>
    private static (double? Start, double? End) KeptPart(MediaFacts facts, ConversionOptions options, List<string> notes)
    {
        var start = options.Start;
        var end = options.End;
        if (facts.DurationSeconds is { } duration)
        {
            if (start is { } s && s >= duration)
            {
                throw new MediaException($"start {Seconds(s)} s is at or past the end of the input, which is {Seconds(duration)} s long; choose an earlier start.", isInputFault: true);
            }

            if (end is { } e && e > duration)
            {
                notes.Add($"end {Seconds(e)} s is past the end of the input ({Seconds(duration)} s); the output runs to the input's end.");
                end = null;
            }
        }

        return (start is <= 0 ? null : start, end);
    }

    /// <summary>True when the options ask for nothing but the target's own default bitrate or quality.</summary>
    public static bool IsDefaultRecipe(AudioFormat target, ConversionOptions options)
    {
        var caps = target.Capabilities;
        var defaultQuality = caps.DefaultBitrate is null ? caps.Quality?.Default : null;
        return options.Bitrate == caps.DefaultBitrate && options.Quality == defaultQuality;
    }

    /// <summary>ffprobe's arguments for a file (and a headerless format's assumed encoding).</summary>
    public static IReadOnlyList<string> Probe(string path, HeaderlessFormat? headerless)
    {
        var arguments = new List<string> { "-v", "error", "-protocol_whitelist", "file", "-format_whitelist", AllowedDemuxers };
        if (headerless is not null)
        {
            arguments.AddRange(["-f", headerless.Encoding]);
            if (headerless.Encoding != "g722")
            {
                arguments.AddRange(["-sample_rate", Integer(headerless.SampleRate), "-ch_layout", headerless.Channels == 1 ? "mono" : "stereo"]);
            }
        }

        arguments.AddRange(["-show_streams", "-show_format", "-of", "json", "file:" + path]);
        return arguments;
    }

    /// <summary>A decode of one second from <paramref name="seconds"/> on: any output means the audio really runs that long.</summary>
    public static IReadOnlyList<string> DecodesPast(string path, HeaderlessFormat? headerless, double seconds) =>
    [
        .. Common(), .. InputArguments(path, headerless, Seconds(seconds)), "-map", "0:a:0", "-t", "1", "-f", "null", "-",
    ];

    /// <summary>The first loudnorm pass: measures the kept, faded audio without writing anything.</summary>
    public static IReadOnlyList<string> MeasureLoudness(ConversionPlan plan, string inputPath, MediaLimits limits)
    {
        var arguments = new List<string>(Common());
        arguments.AddRange(InputArguments(inputPath, plan.Headerless, plan.Start is { } s ? Seconds(s) : null));
        arguments.AddRange(["-map", "0:a:0", "-vn", "-sn", "-dn", "-t", Seconds(KeptSeconds(plan, limits)), "-threads", Integer(limits.Threads)]);
        var filters = Fades(plan);
        filters.Add($"loudnorm=I={Number(plan.Options.Loudness!.Value)}:TP={Number(PeakTarget(plan))}:LRA={Number(DefaultLoudnessRange)}:print_format=json");
        arguments.AddRange(["-af", string.Join(',', filters), "-f", "null", "-"]);
        return arguments;
    }

    /// <summary>
    /// The conversion itself, with <paramref name="measured"/> from the first loudnorm pass when normalising. With
    /// <paramref name="peaks"/> (an encoding only: a copy decodes nothing) the filtered audio is split in two: one
    /// branch is encoded into the output, the other goes through the peaks chain to a null output, so the waveform
    /// costs no second decode.
    /// </summary>
    public static IReadOnlyList<string> Convert(ConversionPlan plan, string inputPath, string outputPath, MediaLimits limits, LoudnormMeasurement? measured, PeaksTap? peaks = null)
    {
        if (peaks is not null && plan.Copy)
        {
            throw new ArgumentException("A stream copy decodes nothing, so it cannot take the peaks.", nameof(peaks));
        }

        var arguments = new List<string>(Common());
        arguments.AddRange(InputArguments(inputPath, plan.Headerless, plan.Start is { } s ? Seconds(s) : null));
        arguments.AddRange(AudioMapping(plan, limits, measured, peaks));
        arguments.AddRange(StreamsAndTags(plan));
        arguments.AddRange(["-threads", Integer(limits.Threads)]);
        if (plan.Copy)
        {
            arguments.AddRange(["-c:a", "copy"]);
        }
        else
        {
            arguments.AddRange(EncodeArguments(plan, measured, filtered: peaks is null));
        }

        if (plan.Copy && plan.Target.Name == "wav")
        {
            arguments.AddRange(["-rf64", "auto"]);
        }
        else if (plan.Copy && plan.Target.Name == "mp3")
        {
            arguments.AddRange(["-id3v2_version", "3"]);
        }

        // Progress lines ten times a second of wall time: a short conversion still reports, and the converter throttles.
        arguments.AddRange(["-stats_period", "0.1"]);
        arguments.AddRange(["-t", Seconds(KeptSeconds(plan, limits)), "-fs", limits.MaxOutputBytes.ToString(CultureInfo.InvariantCulture)]);
        arguments.AddRange(["-f", FormatEncoders.Muxer(plan.Target), "file:" + outputPath]);
        if (peaks is not null)
        {
            // The second output reads the tap to its end; the same -t keeps it to the kept part.
            arguments.AddRange(["-map", "[peaks]", "-t", Seconds(KeptSeconds(plan, limits)), "-f", "null", "-"]);
        }

        return arguments;
    }

    /// <summary>The audio the output takes: the input's first stream, or with a peaks tap the filtered graph's first branch.</summary>
    private static List<string> AudioMapping(ConversionPlan plan, MediaLimits limits, LoudnormMeasurement? measured, PeaksTap? peaks)
    {
        if (peaks is null)
        {
            return ["-map", "0:a:0"];
        }

        var filters = AudioFilters(plan, measured);
        filters.Add("asplit=2[audio][tap]");
        return ["-filter_complex", $"[0:a:0]{string.Join(',', filters)};[tap]{PeaksChain(peaks)}[peaks]", "-filter_complex_threads", Integer(limits.Threads), "-map", "[audio]"];
    }

    /// <summary>Cover art kept or video dropped, no subtitles or data, and the tags: kept, stripped, or set one by one.</summary>
    private static List<string> StreamsAndTags(ConversionPlan plan)
    {
        var options = plan.Options;
        List<string> arguments = plan.MapCover ? ["-map", "0:v:0?", "-c:v", "copy", "-disposition:v:0", "attached_pic"] : ["-vn"];
        arguments.AddRange(["-sn", "-dn"]);
        arguments.AddRange(options.StripMetadata ? ["-map_metadata", "-1"] : ["-map_metadata", plan.TagsFromStream ? "0:s:a:0" : "0"]);
        foreach (var (key, value) in options.Tags)
        {
            // One argument per tag: '=', ';' and newlines in the value are text to ffmpeg, never syntax.
            arguments.AddRange(["-metadata", key + "=" + value]);
        }

        return arguments;
    }

    /// <summary>
    /// What an encoding (not a copy) adds: the filters (fades, the second loudnorm pass) unless they are already in
    /// the run's filter graph, the layout and the encoder.
    /// </summary>
    private static List<string> EncodeArguments(ConversionPlan plan, LoudnormMeasurement? measured, bool filtered)
    {
        var arguments = new List<string>();
        var filters = AudioFilters(plan, measured);
        if (filtered && filters.Count > 0)
        {
            arguments.AddRange(["-af", string.Join(',', filters)]);
        }

        arguments.AddRange(["-ar", Integer(plan.SampleRate), "-ac", Integer(plan.Channels)]);
        arguments.AddRange(FormatEncoders.EncoderArguments(plan.Target, plan.Options));
        return arguments;
    }

    /// <summary>The filters an encoding applies, in order: the fades, then the second loudnorm pass when normalising.</summary>
    private static List<string> AudioFilters(ConversionPlan plan, LoudnormMeasurement? measured)
    {
        var filters = Fades(plan);
        if (plan.Options.Loudness is { } target && measured is not null)
        {
            var range = Math.Clamp(Math.Max(DefaultLoudnessRange, Math.Ceiling(measured.InputLra)), 1, 50);
            filters.Add(string.Create(CultureInfo.InvariantCulture,
                $"loudnorm=I={Number(target)}:TP={Number(PeakTarget(plan))}:LRA={Number(range)}:measured_I={Number(measured.InputI)}:measured_TP={Number(measured.InputTp)}:measured_LRA={Number(measured.InputLra)}:measured_thresh={Number(measured.InputThresh)}:offset={Number(measured.TargetOffset)}:linear=true:print_format=summary"));
        }

        return filters;
    }

    /// <summary>Measures a file's loudness with ebur128 (true peak included); the summary is on stderr.</summary>
    public static IReadOnlyList<string> AnalyzeLoudness(string path) =>
        [.. Common(), .. InputArguments(path, null, null), "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"];

    /// <summary>
    /// Peaks of a file for drawing, for a stream copy (which decodes nothing): one astats frame per
    /// 1/<paramref name="points"/> of its length, written to <paramref name="peaksPath"/>.
    /// </summary>
    public static IReadOnlyList<string> Peaks(string path, double durationSeconds, int points, string peaksPath) =>
    [
        .. Common(), .. InputArguments(path, null, null), "-map", "0:a:0",
        "-af", PeaksChain(new PeaksTap(peaksPath, SamplesPerPoint(durationSeconds, points))),
        "-f", "null", "-",
    ];

    /// <summary>How many samples at <see cref="PeaksRate"/> make one of <paramref name="points"/> over <paramref name="durationSeconds"/>.</summary>
    public static int SamplesPerPoint(double durationSeconds, int points) =>
        (int)Math.Clamp(Math.Ceiling(durationSeconds * PeaksRate / points), 1, int.MaxValue);

    /// <summary>
    /// Mono at <see cref="PeaksRate"/>, one astats frame per point, its peak written by ametadata. astats measures only
    /// the overall peak: computing its other thirty statistics cost more than the WAV conversion itself.
    /// </summary>
    private static string PeaksChain(PeaksTap tap) =>
        $"aformat=channel_layouts=mono,aresample={PeaksRate},asetnsamples=n={tap.SamplesPerPoint}:p=0,astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=Peak_level,ametadata=mode=print:key=lavfi.astats.Overall.Peak_level:file={EscapeFilterPath(tap.Path)}";

    /// <summary>The true peak loudnorm aims at: the ceiling, less a margin for lossy encoders.</summary>
    public static double PeakTarget(ConversionPlan plan) =>
        Math.Max(ConversionOptionsParser.MinTruePeak, plan.Options.TruePeak - (plan.Target.Lossless ? 0 : LossyPeakMargin));

    /// <summary>The most output time a run may write: the kept part, never more than the duration limit.</summary>
    public static double KeptSeconds(ConversionPlan plan, MediaLimits limits) => Math.Min(plan.Length ?? double.MaxValue, limits.MaxDurationSeconds);

    private static List<string> Fades(ConversionPlan plan)
    {
        var filters = new List<string>();
        if (plan.Options.FadeIn is { } fadeIn && fadeIn > 0)
        {
            filters.Add($"afade=t=in:st=0:d={Number(fadeIn)}");
        }

        if (plan.Options.FadeOut is { } fadeOut && fadeOut > 0 && plan.ExpectedSeconds is { } expected)
        {
            filters.Add($"afade=t=out:st={Number(Math.Max(0, expected - fadeOut))}:d={Number(fadeOut)}");
        }

        return filters;
    }

    private static string[] Common() =>
        ["-nostdin", "-hide_banner", "-nostats", "-loglevel", "info", "-y", "-progress", "pipe:1"];

    private static List<string> InputArguments(string path, HeaderlessFormat? headerless, string? seek)
    {
        var arguments = new List<string> { "-protocol_whitelist", "file", "-format_whitelist", AllowedDemuxers };
        if (headerless is not null)
        {
            // G.722's demuxer has its rate built in (16 kHz mono) and takes no rate or channel options.
            arguments.AddRange(headerless.Encoding == "g722" ? ["-f", "g722"] : ["-f", headerless.Encoding, "-ar", Integer(headerless.SampleRate), "-ac", Integer(headerless.Channels)]);
        }

        if (seek is not null)
        {
            arguments.AddRange(["-ss", seek]);
        }

        arguments.AddRange(["-i", "file:" + path]);
        return arguments;
    }

    /// <summary>
    /// A path placed inside a filter graph (ametadata's file): only the server's own work paths, whose characters need
    /// no quoting in the filter syntax, are taken.
    /// </summary>
    private static string EscapeFilterPath(string path) =>
        path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_')
            ? path
            : throw new ArgumentException("The peaks file must be a plain work path (letters, digits, '/', '.', '-', '_').", nameof(path));

    private static string Channels(int channels) => channels switch { 1 => "mono", 2 => "stereo", _ => $"{channels} channels" };

    private static string Integer(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
