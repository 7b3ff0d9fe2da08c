using AudioConverter.Infrastructure.Media;

namespace AudioConverter.Tests.Unit;

/// <summary>The parsers against output captured from the real ffmpeg 5.1 and ffprobe (Unit/Captured).</summary>
public sealed class FfmpegOutputParserTests
{
    private static string Captured(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Unit", "Captured", name));

    [Fact]
    public void AProbeReadsTheAudioStreamAndSeesCoverArt()
    {
        var mp3 = FfmpegOutputParser.ParseProbe(Captured("ffprobe-mp3-with-cover.json"))!;
        Assert.Equal(("mp3", "mp3", 44100, 1, 128), (mp3.Facts.Container, mp3.Facts.Codec, mp3.Facts.SampleRate, mp3.Facts.Channels, mp3.Facts.Bitrate));
        Assert.InRange(mp3.Facts.DurationSeconds!.Value, 1.9, 2.1);
        Assert.True(mp3.HasCoverArt);

        var wav = FfmpegOutputParser.ParseProbe(Captured("ffprobe-wav-5.1.json"))!;
        Assert.Equal(("wav", "pcm_s16le", 48000, 6), (wav.Facts.Container, wav.Facts.Codec, wav.Facts.SampleRate, wav.Facts.Channels));
        Assert.False(wav.HasCoverArt);
        Assert.Null(FfmpegOutputParser.ParseProbe("""{"streams":[{"codec_type":"video","codec_name":"png"}],"format":{}}"""));
    }

    [Fact]
    public void ProgressLinesGiveTheOutputTime()
    {
        var seconds = Captured("progress-mp3.txt").Split('\n').Select(FfmpegOutputParser.ProgressSeconds).Where(s => s is not null).ToList();
        Assert.NotEmpty(seconds);
        Assert.InRange(seconds[^1]!.Value, 2.9, 3.1);
        Assert.Null(FfmpegOutputParser.ProgressSeconds("out_time_ms=3000000"));
        Assert.Null(FfmpegOutputParser.ProgressSeconds("out_time_us=N/A"));
        Assert.Equal(50, FfmpegOutputParser.Percent(1.5, 3));
        Assert.Equal(99, FfmpegOutputParser.Percent(3.2, 3));
        Assert.Equal(0, FfmpegOutputParser.Percent(1, null));
    }

    [Fact]
    public void TheFirstLoudnormPassIsReadAndSilenceGivesNothing()
    {
        var measured = FfmpegOutputParser.ParseLoudnorm(Captured("loudnorm-first-pass.txt"))!;
        Assert.Equal(-21.75, measured.InputI);
        Assert.Equal(-21.07, measured.InputTp);
        Assert.Equal(-31.75, measured.InputThresh);
        Assert.Null(FfmpegOutputParser.ParseLoudnorm(Captured("loudnorm-silence.txt")));
        Assert.Null(FfmpegOutputParser.ParseLoudnorm("no json here"));
    }

    [Fact]
    public void TheEbur128SummaryIsRead()
    {
        var loudness = FfmpegOutputParser.ParseEbur128Summary(Captured("ebur128.txt"))!;
        Assert.Equal(-21.8, loudness.Integrated);
        Assert.Equal(-21.1, loudness.TruePeak);
        Assert.True(loudness.Range >= 0);
        Assert.Null(FfmpegOutputParser.ParseEbur128Summary(Captured("stderr-mp3.txt")));
    }

    [Fact]
    public void PeaksAreLinearAndDownsampledByTheirMaximum()
    {
        var peaks = FfmpegOutputParser.ParsePeaks(Captured("peaks.txt").Split('\n'));
        Assert.Equal(300, peaks.Count);
        Assert.All(peaks, p => Assert.InRange(p, 0, 1));
        Assert.InRange(peaks.Max(), 0.05, 0.2);
        var ten = FfmpegOutputParser.Downsample(peaks, 10);
        Assert.Equal(10, ten.Count);
        Assert.Equal(peaks.Max(), ten.Max());
        Assert.Equal([0.5, 0.9], FfmpegOutputParser.Downsample([0.1, 0.5, 0.9, 0.2], 2));
        Assert.Equal([0.0], FfmpegOutputParser.ParsePeaks(["lavfi.astats.Overall.Peak_level=-inf"]));
    }

    [Fact]
    public void FailuresAreDescribedForPeopleNotAsFfmpegDumps()
    {
        Assert.Contains("only a single audio file is accepted", FfmpegOutputParser.DescribeFailure(Captured("stderr-hls-refused.txt")), StringComparison.Ordinal);
        Assert.Equal(FfmpegOutputParser.MemoryExhausted, FfmpegOutputParser.DescribeFailure("[mp3 @ 0x1] Error: Cannot allocate memory"));
        Assert.Null(FfmpegOutputParser.DescribeFailure(Captured("stderr-mp3.txt")));
    }
}
