using AudioConverter.Infrastructure.Media;
using AudioConverter.Tests.Fixtures;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Conversion;

/// <summary>Each option's effect, measured on the real output with ffprobe and ebur128.</summary>
public sealed class OptionEffectTests : IDisposable
{
    private readonly ConversionRig rig = new();

    public void Dispose() => rig.Dispose();

    [Theory]
    [InlineData("mp3", 64)]
    [InlineData("mp3", 256)]
    [InlineData("m4a", 96)]
    [InlineData("aac", 128)]
    [InlineData("opus", 48)]
    [InlineData("ogg", 128)]
    [InlineData("wma", 64)]
    public async Task AConstantBitrateIsWithinTenPercent(string format, int kbps)
    {
        var input = rig.Noise("noise.wav", 8);
        var output = rig.Out("out." + format);
        var result = await ConversionRig.ConvertAsync(input, output, format, ("bitrate", kbps.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var measured = new FileInfo(output).Length * 8 / ConversionRig.DecodedSeconds(output) / 1000;
        Assert.InRange(measured, kbps * 0.9, kbps * 1.1);
        Assert.True(result.Encoded);
    }

    [Theory]
    [InlineData("mp3", 22050, 1)]
    [InlineData("wav", 16000, 1)]
    [InlineData("flac", 48000, 2)]
    [InlineData("ogg", 32000, 1)]
    [InlineData("m4a", 24000, 1)]
    [InlineData("wma", 22050, 1)]
    public async Task SampleRateAndChannelsAreExact(string format, int rate, int channels)
    {
        var input = rig.Noise("in.wav", 2);
        var output = rig.Out("out." + format);
        var result = await ConversionRig.ConvertAsync(input, output, format, ("sampleRate", rate.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("channels", channels.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Equal(rate, ConversionRig.SampleRate(output));
        Assert.Equal(channels, ConversionRig.Channels(output));
        Assert.Equal((rate, channels), (result.Output.SampleRate, result.Output.Channels));
    }

    [Fact]
    public async Task OpusChannelsAreExactAndItsRateIsTheEncodersOwn()
    {
        var output = rig.Out("out.opus");
        var result = await ConversionRig.ConvertAsync(rig.Noise("in.wav", 2), output, "opus", ("sampleRate", "16000"), ("channels", "1"));
        Assert.Equal(1, ConversionRig.Channels(output));
        Assert.Equal(48000, ConversionRig.SampleRate(output));
        Assert.True(result.Encoded);
    }

    [Theory]
    [InlineData("wav")]
    [InlineData("flac")]
    [InlineData("mp3")]
    [InlineData("ogg")]
    public async Task ATrimIsWithinFiftyMilliseconds(string format)
    {
        var output = rig.Out("out." + format);
        var result = await ConversionRig.ConvertAsync(rig.Noise("in.wav", 6), output, format, ("start", "1.25"), ("end", "3.75"), ("fadeIn", "0.2"), ("fadeOut", "0.5"));
        Assert.InRange(ConversionRig.DecodedSeconds(output), 2.45, 2.55);
        Assert.InRange(result.Output.DurationSeconds, 2.45, 2.55);
    }

    [Fact]
    public async Task AnEndPastTheInputTrimsAtTheEndAndSaysSo()
    {
        var output = rig.Out("out.wav");
        var result = await ConversionRig.ConvertAsync(rig.Noise("in.wav", 3), output, "wav", ("start", "1"), ("end", "60"));
        Assert.InRange(ConversionRig.DecodedSeconds(output), 1.95, 2.05);
        Assert.Contains(result.Notes, n => n.StartsWith("end 60 s is past the end of the input (3 s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStartPastTheInputFailsWithAClearMessage()
    {
        var failure = await Assert.ThrowsAsync<MediaException>(() => ConversionRig.ConvertAsync(rig.Noise("in.wav", 3), rig.Out("out.wav"), "wav", ("start", "10")));
        Assert.True(failure.IsInputFault);
        Assert.StartsWith("start 10 s is at or past the end of the input, which is 3 s long", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("flac", -16, -1)]
    [InlineData("wav", -23, -2)]
    [InlineData("mp3", -16, -1)]
    [InlineData("m4a", -14, -1)]
    public async Task LoudnessIsWithinOneLuAndTheTruePeakAtOrBelowTheCeiling(string format, double lufs, double ceiling)
    {
        // A quiet, dynamic input: a tone at -30 dBFS with louder noise bursts.
        var input = rig.Make("quiet.wav", "sine=frequency=220:sample_rate=48000:duration=8", "-af", "volume=-24dB,aformat=channel_layouts=stereo");
        var output = rig.Out("out." + format);
        var result = await ConversionRig.ConvertAsync(input, output, format,
            ("loudness", lufs.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("truePeak", ceiling.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var measured = ConversionRig.Loudness(output);
        Assert.InRange(measured.Integrated, lufs - 1, lufs + 1);
        Assert.True(measured.TruePeak <= ceiling, $"true peak {measured.TruePeak} above {ceiling}");
        Assert.NotNull(result.Output.Loudness);
        Assert.InRange(result.Output.Loudness!.Integrated, lufs - 1, lufs + 1);
        Assert.Equal(ConversionRig.SampleRate(input), result.Output.SampleRate);
    }

    [Fact]
    public async Task AnalyzeMeasuresTheOutputWithoutChangingIt()
    {
        var input = rig.Make("tone.wav", "sine=frequency=440:sample_rate=44100:duration=4", "-af", "volume=-10dB");
        var output = rig.Out("out.flac");
        var result = await ConversionRig.ConvertAsync(input, output, "flac", ("analyze", "true"));
        var independent = ConversionRig.Loudness(input);
        Assert.InRange(result.Output.Loudness!.Integrated, independent.Integrated - 0.2, independent.Integrated + 0.2);
        Assert.Null((await ConversionRig.ConvertAsync(input, rig.Out("plain.flac"), "flac")).Output.Loudness);
    }

    [Theory]
    [InlineData("mp3")]
    [InlineData("flac")]
    [InlineData("ogg")]
    [InlineData("m4a")]
    [InlineData("opus")]
    [InlineData("wma")]
    [InlineData("wav")]
    public async Task TagsAreReadBackExactlyWithTheirSyntaxCharacters(string format)
    {
        var output = rig.Out("out." + format);
        var title = "Part 1; key=value [x]";
        await ConversionRig.ConvertAsync(rig.Noise("in.wav", 1), output, format, ("title", title + "\u0007"), ("artist", "Someone -metadata title=pwned"), ("album", "Album"), ("genre", "Speech"), ("date", "2026"));
        Assert.Equal(title, ConversionRig.Tag(output, "title"));
        Assert.Equal("Someone -metadata title=pwned", ConversionRig.Tag(output, "artist"));
        Assert.Equal("Album", ConversionRig.Tag(output, "album"));
        Assert.Equal("Speech", ConversionRig.Tag(output, "genre"));
    }

    [Fact]
    public async Task TenKilobytesOfCommentWithNewlinesAreWrittenWhole()
    {
        var comment = string.Concat(Enumerable.Repeat("line=1;\n", 1300))[..10_000].TrimEnd();
        var output = rig.Out("out.flac");
        await ConversionRig.ConvertAsync(rig.Noise("in.wav", 1), output, "flac", ("comment", comment));
        Assert.Equal(comment, ConversionRig.Tag(output, "comment"));
    }

    [Fact]
    public async Task MetadataKeepCarriesTagsAndStripRemovesThem()
    {
        var input = rig.Noise("tagged.mp3", 1, output: ["-c:a", "libmp3lame", "-metadata", "title=Kept", "-metadata", "artist=Original"]);
        var kept = rig.Out("kept.ogg");
        await ConversionRig.ConvertAsync(input, kept, "ogg");
        Assert.Equal("Kept", ConversionRig.Tag(kept, "title"));

        var stripped = rig.Out("stripped.ogg");
        await ConversionRig.ConvertAsync(input, stripped, "ogg", ("metadata", "strip"), ("album", "Only"));
        Assert.Null(ConversionRig.Tag(stripped, "title"));
        Assert.Equal("Only", ConversionRig.Tag(stripped, "album"));

        var fromOgg = rig.Out("from-ogg.mp3");
        await ConversionRig.ConvertAsync(kept, fromOgg, "mp3", ("bitrate", "64"));
        Assert.Equal("Original", ConversionRig.Tag(fromOgg, "artist"));
    }

    [Theory]
    [InlineData("m4a")]
    [InlineData("flac")]
    public async Task CoverArtIsKeptFromMp3(string format)
    {
        var input = Path.Combine(rig.Folder, "cover.mp3");
        AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "sine=440:duration=2", "-f", "lavfi", "-i", "color=red:size=64x64:duration=1",
            "-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:v", "mjpeg", "-disposition:v", "attached_pic", "-c:a", "libmp3lame", "-id3v2_version", "3", input]);
        Assert.True(ConversionRig.HasCoverArt(input));

        var output = rig.Out("out." + format);
        await ConversionRig.ConvertAsync(input, output, format);
        Assert.True(ConversionRig.HasCoverArt(output));

        var stripped = rig.Out("stripped." + format);
        await ConversionRig.ConvertAsync(input, stripped, format, ("metadata", "strip"));
        Assert.False(ConversionRig.HasCoverArt(stripped));
    }

    [Theory]
    [InlineData("in.m4a", "aac", "aac")]
    [InlineData("in.opus", "opus", "opus")]
    [InlineData("in.mp3", "mp3", "mp3")]
    [InlineData("in.flac", "flac", "flac")]
    public async Task AStreamAlreadyInTheTargetsCodecIsCopied(string name, string format, string codec)
    {
        string[] encoder = codec switch { "aac" => ["-c:a", "aac"], "opus" => ["-c:a", "libopus", "-ar", "48000"], "mp3" => ["-c:a", "libmp3lame", "-b:a", "128k"], _ => ["-c:a", "flac"] };
        var input = rig.Noise(name, 3, 48000, "stereo", encoder);
        var output = rig.Out("out." + format);
        var tags = AudioFormat.Find(format)!.Capabilities.Tags;
        var result = tags ? await ConversionRig.ConvertAsync(input, output, format, ("title", "Retagged")) : await ConversionRig.ConvertAsync(input, output, format);

        Assert.False(result.Encoded);
        Assert.Contains(result.Notes, n => n.Contains("copied", StringComparison.Ordinal));
        Assert.Equal(codec, ConversionRig.Audio(ConversionRig.Probe(output)).GetProperty("codec_name").GetString());
        Assert.InRange(ConversionRig.DecodedSeconds(output), 2.9, 3.1);
        if (tags)
        {
            Assert.Equal("Retagged", ConversionRig.Tag(output, "title"));
        }

        // The same input with an option that changes the audio is encoded again.
        Assert.True((await ConversionRig.ConvertAsync(input, rig.Out("again." + format), format, ("start", "0.5"))).Encoded);
    }

    [Theory]
    [InlineData("alaw", "alaw", 8000)]
    [InlineData("ul", "mulaw", 8000)]
    [InlineData("pcm", "s16le", 16000)]
    [InlineData("u8", "u8", 8000)]
    [InlineData("g722", "g722", 16000)]
    [InlineData("gsm", "gsm", 8000)]
    public async Task HeaderlessRecordingsDecodeWithTheirDefaults(string extension, string muxer, int rate)
    {
        string[] codec = muxer switch { "g722" => ["-c:a", "g722"], "gsm" => ["-c:a", "libgsm"], _ => [] };
        var input = rig.Make("call." + extension, $"sine=frequency=300:sample_rate={rate}:duration=2", [.. codec, "-ar", rate.ToString(System.Globalization.CultureInfo.InvariantCulture), "-ac", "1", "-f", muxer]);
        var output = rig.Out("out.wav");
        var result = await ConversionRig.ConvertAsync(input, output, "wav");
        Assert.Equal(rate, ConversionRig.SampleRate(output));
        Assert.Equal(1, ConversionRig.Channels(output));
        Assert.InRange(ConversionRig.DecodedSeconds(output), 1.9, 2.1);
        Assert.Equal(rate, result.Input.SampleRate);
    }

    [Fact]
    public async Task AnInputWhoseHeaderClaimsAnotherLengthIsMeasured()
    {
        // An MP3 whose Xing header counts 10 s of frames, cut to its first 3 s.
        var full = rig.Noise("full.mp3", 10, output: ["-c:a", "libmp3lame", "-b:a", "128k"]);
        var bytes = await File.ReadAllBytesAsync(full);
        var cut = Path.Combine(rig.Folder, "cut.mp3");
        await File.WriteAllBytesAsync(cut, bytes[..(bytes.Length * 3 / 10)]);

        var output = rig.Out("out.wav");
        var result = await ConversionRig.ConvertAsync(cut, output, "wav");
        Assert.InRange(result.Output.DurationSeconds, 2.7, 3.3);
        Assert.InRange(ConversionRig.DecodedSeconds(output), 2.7, 3.3);
        Assert.InRange(result.Input.DurationSeconds!.Value, 2.7, 3.3);
        Assert.Contains(result.Notes, n => n.Contains("the measured length counts", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnOutputCutByTheSizeCapFailsNamingTheLimit()
    {
        var converter = ConversionRig.Converter(new MediaOptions { MaxOutputBytes = 200 * 1024 });
        var failure = await Assert.ThrowsAsync<MediaException>(() => ConversionRig.ConvertAsync(converter, rig.Noise("in.wav", 10), rig.Out("out.wav"), "wav"));
        Assert.True(failure.IsInputFault);
        Assert.StartsWith("The output reached the size limit of 200 KiB and was cut short", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInputPastTheDurationLimitFailsNamingTheLimit()
    {
        var converter = ConversionRig.Converter(new MediaOptions { MaxDurationSeconds = 2 });
        var failure = await Assert.ThrowsAsync<MediaException>(() => ConversionRig.ConvertAsync(converter, rig.Noise("in.flac", 5, output: ["-c:a", "flac"]), rig.Out("out.mp3"), "mp3"));
        Assert.Equal("The audio is 0 min 5 s long; the limit is 0 min 2 s.", failure.Message);

        // A raw input has no header: its length is estimated from its size, and it is refused the same way.
        var raw = rig.Make("long.pcm", "sine=frequency=300:sample_rate=16000:duration=5", "-ac", "1", "-f", "s16le");
        var rawFailure = await Assert.ThrowsAsync<MediaException>(() => ConversionRig.ConvertAsync(converter, raw, rig.Out("raw.mp3"), "mp3"));
        Assert.Contains("the limit is 0 min 2 s", rawFailure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProgressIsReportedAtMostOncePerSecondOfTheClock()
    {
        var input = rig.Noise("long.wav", 60, 48000);
        var reports = new List<int>();
        var stopped = new FakeTimeProvider();
        var target = AudioFormat.Find("flac")!;
        var options = AudioConverter.Core.Conversion.ConversionOptionsParser.Parse([], target).Options!;
        await ConversionRig.Converter(clock: stopped).ConvertAsync(new ConversionRequest(input, rig.Out("out.flac"), target, options), new SynchronousProgress(reports.Add), CancellationToken.None);

        // The clock never moved: however many progress lines ffmpeg wrote, only the first was reported.
        Assert.Single(reports);

        reports.Clear();
        var moving = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1100) };
        await ConversionRig.Converter(clock: moving).ConvertAsync(new ConversionRequest(input, rig.Out("out2.flac"), target, options), new SynchronousProgress(reports.Add), CancellationToken.None);
        Assert.True(reports.Count >= 2, $"{reports.Count} reports");
        Assert.Equal(reports.Order().ToList(), reports);
        Assert.All(reports, p => Assert.InRange(p, 0, 99));
    }

    [Fact]
    public async Task PeaksFollowTheOutput()
    {
        // One second of silence, then one of a loud tone.
        var input = rig.Make("half.wav", "aevalsrc=exprs='if(lt(t,1),0,0.8*sin(2*PI*440*t))':sample_rate=44100:duration=2");
        var result = await ConversionRig.ConvertAsync(input, rig.Out("out.mp3"), "mp3");
        var peaks = result.Peaks;
        Assert.InRange(peaks.Count, 900, 1000);
        Assert.True(peaks.Take(peaks.Count / 2 - 20).Max() < 0.05, "the silent half is drawn flat");
        Assert.InRange(peaks.Skip(peaks.Count / 2 + 20).Average(), 0.6, 1.0);
    }

    private sealed class SynchronousProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
