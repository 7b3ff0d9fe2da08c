using AudioConverter.Core.Conversion;
using AudioConverter.Infrastructure.Media;

namespace AudioConverter.Tests.Unit;

[Trait("Layer", "Unit")]
public sealed class FfmpegArgumentsTests
{
    private static readonly MediaLimits Limits = new(10_800, 1L << 32, 1);

    private static ProbedMedia Input(string codec = "pcm_s16le", int rate = 44100, int channels = 2, double? duration = 10, bool cover = false, string container = "wav") =>
        new(new MediaFacts(container, codec, rate, channels, 1411, duration), cover, TagsOnStream: false);

    private static ConversionOptions Options(string format, params (string, string?)[] fields) =>
        ConversionOptionsParser.Parse(fields.Select(f => KeyValuePair.Create(f.Item1, f.Item2)), AudioFormat.Find(format)!).Options!;

    private static ConversionPlan Plan(ProbedMedia input, string format, params (string, string?)[] fields) =>
        FfmpegArguments.Plan(input, AudioFormat.Find(format)!, Options(format, fields), HeaderlessFormat.Find(null));

    private static string After(IReadOnlyList<string> arguments, string flag)
    {
        var index = arguments.ToList().LastIndexOf(flag);
        Assert.True(index >= 0 && index + 1 < arguments.Count, $"{flag} missing from {string.Join(' ', arguments)}");
        return arguments[index + 1];
    }

    [Theory]
    [InlineData("mp3", 96000, 48000)]
    [InlineData("wma", 96000, 48000)]
    [InlineData("opus", 44100, 48000)]
    [InlineData("opus", 22050, 24000)]
    [InlineData("opus", 11025, 12000)]
    [InlineData("mp3", 88200, 48000)]
    [InlineData("m4a", 192000, 96000)]
    [InlineData("ogg", 384000, 192000)]
    public void ARateTheEncoderCannotTakeBecomesTheNearestWithANote(string format, int input, int expected)
    {
        var plan = Plan(Input(rate: input), format);
        Assert.Equal(expected, plan.SampleRate);
        Assert.Contains(plan.Notes, n => n.Contains($"{input} Hz", StringComparison.Ordinal) && n.Contains($"{expected} Hz", StringComparison.Ordinal));
        Assert.Equal(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), After(FfmpegArguments.Convert(plan, "/in.wav", "/out", Limits, null), "-ar"));
    }

    [Fact]
    public void MoreChannelsThanTheCodecHoldsAreMixedDownWithANote()
    {
        var plan = Plan(Input(channels: 6), "mp3");
        Assert.Equal(2, plan.Channels);
        Assert.Contains(plan.Notes, n => n.Contains("6 channels", StringComparison.Ordinal) && n.Contains("stereo", StringComparison.Ordinal));
        Assert.Equal("2", After(FfmpegArguments.Convert(plan, "/in.wav", "/out", Limits, null), "-ac"));
        Assert.Equal(6, Plan(Input(channels: 6), "flac").Channels);
        Assert.Empty(Plan(Input(), "mp3").Notes);
    }

    [Fact]
    public void OptionsBecomeEncoderArguments()
    {
        var cbr = FfmpegArguments.Convert(Plan(Input(), "mp3", ("bitrate", "64"), ("sampleRate", "22050"), ("channels", "1")), "/in.wav", "/out.mp3", Limits, null);
        Assert.Equal("libmp3lame", After(cbr, "-c:a"));
        Assert.Equal("64k", After(cbr, "-b:a"));
        Assert.Equal("22050", After(cbr, "-ar"));
        Assert.Equal("1", After(cbr, "-ac"));
        Assert.DoesNotContain("-q:a", cbr);
        Assert.Equal("mp3", After(cbr, "-f"));
        Assert.Equal("file:/out.mp3", cbr[^1]);

        var vbr = FfmpegArguments.Convert(Plan(Input(), "ogg", ("quality", "6.5")), "/in.wav", "/out.ogg", Limits, null);
        Assert.Equal("6.5", After(vbr, "-q:a"));
        Assert.Equal("off", After(FfmpegArguments.Convert(Plan(Input(), "opus", ("bitrate", "32")), "/in", "/out", Limits, null), "-vbr"));
        Assert.Equal("auto", After(FfmpegArguments.Convert(Plan(Input(codec: "flac"), "wav"), "/in", "/out", Limits, null), "-rf64"));
    }

    [Fact]
    public void EveryRunKeepsTheInputWhitelistsAndTheCaps()
    {
        var plan = Plan(Input(), "mp3");
        foreach (var arguments in new[] { FfmpegArguments.Convert(plan, "/in.wav", "/out", Limits, null), FfmpegArguments.Probe("/in.wav", null), FfmpegArguments.DecodesPast("/in.wav", null, 10) })
        {
            Assert.Equal("file", After(arguments, "-protocol_whitelist"));
            Assert.Equal(FfmpegArguments.AllowedDemuxers, After(arguments, "-format_whitelist"));
            Assert.DoesNotContain(arguments, a => a.Contains("hls", StringComparison.Ordinal) || a.Contains("concat", StringComparison.Ordinal));
        }

        var convert = FfmpegArguments.Convert(plan, "/in.wav", "/out", Limits, null);
        Assert.Equal("10800", After(convert, "-t"));
        Assert.Equal((1L << 32).ToString(System.Globalization.CultureInfo.InvariantCulture), After(convert, "-fs"));
        Assert.Equal("file:/in.wav", After(convert, "-i"));
    }

    [Fact]
    public void TagsAreOneArgumentEachSoTheirTextIsNeverSyntax()
    {
        var plan = Plan(Input(), "mp3", ("title", "a=b;c\nd"), ("artist", "-i file:/etc/passwd"), ("comment", "x"));
        var arguments = FfmpegArguments.Convert(plan, "/in.wav", "/out", Limits, null);
        Assert.Contains("title=a=b;c\nd", arguments);
        Assert.Contains("artist=-i file:/etc/passwd", arguments);
        Assert.Single(arguments, a => a == "-i");
        Assert.Equal("0", After(arguments, "-map_metadata"));
        Assert.Equal("-1", After(FfmpegArguments.Convert(Plan(Input(), "mp3", ("metadata", "strip")), "/in", "/out", Limits, null), "-map_metadata"));
    }

    [Fact]
    public void TrimAndFadesBecomeASeekALengthAndFilters()
    {
        var plan = Plan(Input(duration: 10), "mp3", ("start", "2"), ("end", "6.5"), ("fadeIn", "0.5"), ("fadeOut", "1"));
        Assert.Equal(4.5, plan.Length);
        Assert.Equal(4.5, plan.ExpectedSeconds);
        var arguments = FfmpegArguments.Convert(plan, "/in.wav", "/out", Limits, null);
        Assert.Equal("2", After(arguments, "-ss"));
        Assert.True(arguments.ToList().IndexOf("-ss") < arguments.ToList().IndexOf("-i"), "the seek is an input option");
        Assert.Equal("4.5", After(arguments, "-t"));
        Assert.Equal("afade=t=in:st=0:d=0.5,afade=t=out:st=3.5:d=1", After(arguments, "-af"));
        Assert.False(plan.Copy);
    }

    [Fact]
    public void AnEndPastTheInputTrimsAtTheEndWithANoteAndAStartPastItFails()
    {
        var plan = Plan(Input(duration: 10), "mp3", ("start", "4"), ("end", "25"));
        Assert.Null(plan.Length);
        Assert.Equal(6, plan.ExpectedSeconds);
        Assert.Contains(plan.Notes, n => n.StartsWith("end 25 s is past the end of the input (10 s)", StringComparison.Ordinal));
        var failure = Assert.Throws<MediaException>(() => Plan(Input(duration: 10), "mp3", ("start", "12")));
        Assert.True(failure.IsInputFault);
        Assert.Contains("start 12 s is at or past the end of the input, which is 10 s long", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("aac", "mov,mp4,m4a,3gp,3g2,mj2", "aac")]
    [InlineData("opus", "ogg", "opus")]
    [InlineData("mp3", "mp3", "mp3")]
    [InlineData("flac", "ogg", "flac")]
    [InlineData("wav", "wav", "pcm_s16le")]
    public void TheStreamIsCopiedWhenItIsAlreadyWhatTheTargetHolds(string target, string container, string codec)
    {
        var rate = target == "opus" ? 48000 : 44100;
        var tags = AudioFormat.Find(target)!.Capabilities.Tags;
        var plan = tags ? Plan(Input(codec, rate, container: container), target, ("title", "New")) : Plan(Input(codec, rate, container: container), target);
        Assert.True(plan.Copy);
        var arguments = FfmpegArguments.Convert(plan, "/in", "/out", Limits, null);
        Assert.Equal("copy", After(arguments, "-c:a"));
        Assert.DoesNotContain("-af", arguments);
        Assert.DoesNotContain("-ar", arguments);
        Assert.Equal(tags, arguments.Contains("title=New"));
    }

    [Fact]
    public void AnythingThatChangesTheAudioIsEncoded()
    {
        var mp3 = Input("mp3", container: "mp3");
        Assert.False(Plan(mp3, "mp3", ("bitrate", "64")).Copy);
        Assert.False(Plan(mp3, "mp3", ("sampleRate", "22050")).Copy);
        Assert.False(Plan(mp3, "mp3", ("channels", "1")).Copy);
        Assert.False(Plan(mp3, "mp3", ("start", "1")).Copy);
        Assert.False(Plan(mp3, "mp3", ("fadeOut", "1")).Copy);
        Assert.False(Plan(mp3, "mp3", ("loudness", "-16")).Copy);
        Assert.False(Plan(Input("vorbis", container: "ogg"), "opus").Copy);
        Assert.False(Plan(Input("opus", 48000, 6, container: "ogg"), "wma").Copy);
    }

    [Fact]
    public void CoverArtIsMappedOnlyWhereTheTargetHoldsItAndMetadataIsKept()
    {
        var cover = Input("mp3", container: "mp3", cover: true);
        var m4a = FfmpegArguments.Convert(Plan(cover, "m4a"), "/in", "/out", Limits, null);
        Assert.Equal("0:v:0?", After(m4a, "-map"));
        Assert.Equal("attached_pic", After(m4a, "-disposition:v:0"));
        Assert.Contains("-vn", FfmpegArguments.Convert(Plan(cover, "ogg"), "/in", "/out", Limits, null));
        Assert.Contains("-vn", FfmpegArguments.Convert(Plan(cover, "flac", ("metadata", "strip")), "/in", "/out", Limits, null));
    }

    [Fact]
    public void TheSecondLoudnessPassUsesTheFirstPassesMeasurementsLinearly()
    {
        var plan = Plan(Input(), "flac", ("loudness", "-16"), ("truePeak", "-2"));
        var first = FfmpegArguments.MeasureLoudness(plan, "/in.wav", Limits);
        Assert.Equal("loudnorm=I=-16:TP=-2:LRA=7:print_format=json", After(first, "-af"));
        Assert.Equal("null", After(first, "-f"));

        var second = FfmpegArguments.Convert(plan, "/in.wav", "/out", Limits, new LoudnormMeasurement(-21.75, -21.07, 3.2, -31.75, -0.05));
        Assert.Equal("loudnorm=I=-16:TP=-2:LRA=7:measured_I=-21.75:measured_TP=-21.07:measured_LRA=3.2:measured_thresh=-31.75:offset=-0.05:linear=true:print_format=summary", After(second, "-af"));
        Assert.Equal("44100", After(second, "-ar"));

        // Lossy encoders overshoot peaks: loudnorm aims a little under the ceiling.
        Assert.Equal(-1.5, FfmpegArguments.PeakTarget(Plan(Input(), "mp3", ("loudness", "-16"))));
    }

    [Fact]
    public void HeaderlessInputsAreReadWithTheirRawDemuxerAndDefaults()
    {
        var alaw = HeaderlessFormat.Find("alaw")!;
        var probe = FfmpegArguments.Probe("/in.alaw", alaw);
        Assert.Equal("alaw", After(probe, "-f"));
        Assert.Equal("8000", After(probe, "-sample_rate"));
        var plan = FfmpegArguments.Plan(Input("pcm_alaw", 8000, 1, container: "alaw"), AudioFormat.Find("wav")!, Options("wav"), alaw);
        var convert = FfmpegArguments.Convert(plan, "/in.alaw", "/out", Limits, null);
        Assert.Equal("alaw", convert[convert.ToList().IndexOf("-i") - 5]);
        Assert.Equal("s16le", HeaderlessFormat.Find(".PCM")!.Encoding);
        Assert.Equal("mulaw", HeaderlessFormat.Find("ul")!.Encoding);
        Assert.Null(HeaderlessFormat.Find("mp3"));
    }

    [Fact]
    public void AnEncodingTakesThePeaksFromItsOwnDecodeThroughASplitToANullOutput()
    {
        var plan = Plan(Input(duration: 100), "mp3", ("fadeIn", "2"), ("end", "50"));
        var tap = new PeaksTap("/work/peaks-1.txt", FfmpegArguments.SamplesPerPoint(50, 1000));
        var arguments = FfmpegArguments.Convert(plan, "/in.wav", "/work/out.mp3", Limits, null, tap).ToList();

        // The fades run once, before the split; one branch is encoded, the other measured.
        Assert.Equal(
            "[0:a:0]afade=t=in:st=0:d=2,asplit=2[audio][tap];[tap]aformat=channel_layouts=mono,aresample=8000,asetnsamples=n=400:p=0,"
                + "astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=Peak_level,ametadata=mode=print:key=lavfi.astats.Overall.Peak_level:file=/work/peaks-1.txt[peaks]",
            After(arguments, "-filter_complex"));
        Assert.DoesNotContain("-af", arguments);
        Assert.Equal("[audio]", arguments[arguments.IndexOf("-map") + 1]);
        Assert.Equal("1", After(arguments, "-filter_complex_threads"));

        // The real output first, with its rate, layout and encoder; then the null output, held to the same kept part.
        var output = arguments.IndexOf("file:/work/out.mp3");
        Assert.True(arguments.IndexOf("-ar") < output && arguments.IndexOf("libmp3lame") < output);
        Assert.Equal(["-map", "[peaks]", "-t", "50", "-f", "null", "-"], arguments[(output + 1)..]);
        Assert.Equal("50", arguments[arguments.IndexOf("-t") + 1]);
    }

    [Fact]
    public void TheSecondLoudnessPassIsInsideTheGraphWhenThePeaksAreTapped()
    {
        var plan = Plan(Input(), "flac", ("loudness", "-16"));
        var arguments = FfmpegArguments.Convert(plan, "/in.wav", "/out", Limits, new LoudnormMeasurement(-21.75, -21.07, 3.2, -31.75, -0.05), new PeaksTap("/peaks.txt", 80));
        var graph = After(arguments, "-filter_complex");
        Assert.StartsWith("[0:a:0]loudnorm=I=-16:", graph, StringComparison.Ordinal);
        Assert.Contains(":linear=true:print_format=summary,asplit=2[audio][tap];[tap]", graph, StringComparison.Ordinal);

        // Without options nothing comes before the split.
        var plain = After(FfmpegArguments.Convert(Plan(Input(codec: "mp3"), "wav"), "/in", "/out", Limits, null, new PeaksTap("/peaks.txt", 80)), "-filter_complex");
        Assert.StartsWith("[0:a:0]asplit=2[audio][tap];[tap]aformat=channel_layouts=mono,", plain, StringComparison.Ordinal);
    }

    [Fact]
    public void ACopyDecodesNothingSoItsPeaksAreAPassOfTheirOwn()
    {
        var copy = Plan(Input(), "wav");
        Assert.True(copy.Copy);
        Assert.Throws<ArgumentException>(() => FfmpegArguments.Convert(copy, "/in", "/out", Limits, null, new PeaksTap("/peaks.txt", 80)));

        var peaks = FfmpegArguments.Peaks("/out.wav", 10, 1000, "/peaks.txt");
        Assert.Equal("aformat=channel_layouts=mono,aresample=8000,asetnsamples=n=80:p=0,astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=Peak_level,ametadata=mode=print:key=lavfi.astats.Overall.Peak_level:file=/peaks.txt", After(peaks, "-af"));
        Assert.Throws<ArgumentException>(() => FfmpegArguments.Convert(Plan(Input(codec: "mp3"), "wav"), "/in", "/out", Limits, null, new PeaksTap("/a;b[c]", 80)));
    }

    [Theory]
    [InlineData(180, 1000, 1440)]
    [InlineData(2, 1000, 16)]
    [InlineData(0.01, 1000, 1)]
    public void APointIsTheLengthsShareOfTheSamplesAtThePeaksRate(double seconds, int points, int expected) =>
        Assert.Equal(expected, FfmpegArguments.SamplesPerPoint(seconds, points));
}
