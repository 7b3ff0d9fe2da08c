using AudioConverter.Core.Conversion;

namespace AudioConverter.Tests.Unit;

public sealed class ConversionOptionsParserTests
{
    private static AudioFormat F(string name) => AudioFormat.Find(name)!;

    private static OptionsResult Parse(string format, params (string Name, string? Value)[] fields) =>
        ConversionOptionsParser.Parse(fields.Select(f => KeyValuePair.Create(f.Name, f.Value)), F(format));

    private static string Error(OptionsResult result, string option)
    {
        Assert.False(result.IsValid);
        Assert.True(result.Errors.ContainsKey(option), $"no error for {option}: {string.Join(" | ", result.Errors.Keys)}");
        return result.Errors[option][0];
    }

    [Fact]
    public void NothingGivenResolvesTheTargetsDefaultRecipe()
    {
        Assert.Equal(2, Parse("mp3").Options!.Quality);
        Assert.Null(Parse("mp3").Options!.Bitrate);
        Assert.Equal(4, Parse("ogg").Options!.Quality);
        Assert.Equal(192, Parse("m4a").Options!.Bitrate);
        Assert.Equal(128, Parse("opus").Options!.Bitrate);
        var flac = Parse("flac").Options!;
        Assert.Null(flac.Bitrate);
        Assert.Null(flac.Quality);
        Assert.Equal("keep", flac.Metadata);
        Assert.Equal(-1, flac.TruePeak);
    }

    [Fact]
    public void GoodValuesOfEveryKindAreRead()
    {
        var o = Parse("mp3", ("bitrate", "64"), ("sampleRate", "22050"), ("channels", "1"), ("start", "1.5"), ("end", "9.25"), ("fadeIn", "0.5"), ("fadeOut", "1"),
            ("loudness", "-16"), ("truePeak", "-1.5"), ("metadata", "strip"), ("title", "Episode 1"), ("track", "3/12"), ("analyze", "true")).Options!;
        Assert.Equal(64, o.Bitrate);
        Assert.Null(o.Quality);
        Assert.Equal(22050, o.SampleRate);
        Assert.Equal(1, o.Channels);
        Assert.Equal(1.5, o.Start);
        Assert.Equal(9.25, o.End);
        Assert.Equal(-16, o.Loudness);
        Assert.Equal(-1.5, o.TruePeak);
        Assert.True(o.StripMetadata);
        Assert.Equal("Episode 1", o.Title);
        Assert.Equal("3/12", o.Track);
        Assert.True(o.Analyze);
    }

    [Fact]
    public void OutOfRangeValuesNameTheOptionTheValueAndTheLimit()
    {
        Assert.Equal("bitrate 500 is above mp3's maximum of 320 kbps.", Error(Parse("mp3", ("bitrate", "500")), "bitrate"));
        Assert.Equal("bitrate 8 is below mp3's minimum of 32 kbps.", Error(Parse("mp3", ("bitrate", "8")), "bitrate"));
        Assert.Equal("quality 11 is outside mp3's scale of 0 to 9 (0 is best).", Error(Parse("mp3", ("quality", "11")), "quality"));
        Assert.Contains("sampleRate 44100 is not a rate opus takes; choose one of 8000, 12000, 16000, 24000, 48000 Hz", Error(Parse("opus", ("sampleRate", "44100")), "sampleRate"));
        Assert.Equal("sampleRate 96000 is above wma's maximum of 48000 Hz.", Error(Parse("wma", ("sampleRate", "96000")), "sampleRate"));
        Assert.Equal("channels 6 is above mp3's maximum of 2.", Error(Parse("mp3", ("channels", "6")), "channels"));
        Assert.Equal("channels 0 is below the minimum of 1 (mono).", Error(Parse("wav", ("channels", "0")), "channels"));
        Assert.Contains("loudness -80 is outside the allowed range of -70 to -5 LUFS", Error(Parse("mp3", ("loudness", "-80")), "loudness"));
        Assert.Contains("truePeak 1 is outside", Error(Parse("mp3", ("truePeak", "1")), "truePeak"));
        Assert.Contains("start -1 is outside", Error(Parse("mp3", ("start", "-1")), "start"));
        Assert.Contains("fadeIn 700 is outside", Error(Parse("mp3", ("fadeIn", "700")), "fadeIn"));
    }

    [Fact]
    public void WrongTypesAreRefused()
    {
        Assert.Contains("bitrate '128k' is not a whole number of kbps", Error(Parse("mp3", ("bitrate", "128k")), "bitrate"));
        Assert.Contains("bitrate '128.5' is not a whole number", Error(Parse("mp3", ("bitrate", "128.5")), "bitrate"));
        Assert.Contains("quality 'best' is not a number", Error(Parse("ogg", ("quality", "best")), "quality"));
        Assert.Contains("start 'NaN' is not a number", Error(Parse("mp3", ("start", "NaN")), "start"));
        Assert.Contains("start '1,5' is not a number", Error(Parse("mp3", ("start", "1,5")), "start"));
        Assert.Equal("analyze 'yes' is not allowed; use true or false.", Error(Parse("mp3", ("analyze", "yes")), "analyze"));
        Assert.Equal("metadata 'drop' is not allowed; use keep or strip.", Error(Parse("mp3", ("metadata", "drop")), "metadata"));
    }

    [Fact]
    public void EmptyTwiceAndUnknownOptionsAreRefusedNeverIgnored()
    {
        Assert.StartsWith("bitrate is empty; give a whole number of kbps from 32 to 320", Error(Parse("mp3", ("bitrate", " ")), "bitrate"));
        Assert.StartsWith("title is empty", Error(Parse("mp3", ("title", "")), "title"));
        Assert.Equal("bitrate is given twice; give it once.", Error(Parse("mp3", ("bitrate", "128"), ("Bitrate", "128")), "bitrate"));
        Assert.StartsWith("'bitrat' is not an option; mp3's options are bitrate, quality, sampleRate", Error(Parse("mp3", ("bitrat", "128")), "bitrat"));
        Assert.StartsWith("'preset' is not an option", Error(Parse("mp3", ("preset", "podcast")), "preset"));
    }

    [Fact]
    public void AnOptionTheTargetDoesNotHaveIsRefused()
    {
        Assert.StartsWith("quality is not an option of wav; wav's options are sampleRate, channels", Error(Parse("wav", ("quality", "2")), "quality"));
        Assert.StartsWith("bitrate is not an option of flac", Error(Parse("flac", ("bitrate", "320")), "bitrate"));
        Assert.StartsWith("title is not an option of aac", Error(Parse("aac", ("title", "x")), "title"));
    }

    [Fact]
    public void OptionsThatContradictEachOtherAreRefused()
    {
        Assert.Equal("end 5 is not after start 10; end must be greater than start.", Error(Parse("mp3", ("start", "10"), ("end", "5")), "end"));
        Assert.Equal("end 5 is not after start 5; end must be greater than start.", Error(Parse("mp3", ("start", "5"), ("end", "5")), "end"));
        Assert.StartsWith("bitrate and quality are both given", Error(Parse("mp3", ("bitrate", "128"), ("quality", "2")), "quality"));
        Assert.StartsWith("fadeIn and fadeOut together (6 s) are longer than the trimmed audio (4 s)", Error(Parse("mp3", ("start", "1"), ("end", "5"), ("fadeIn", "3"), ("fadeOut", "3")), "fadeIn"));
    }

    [Fact]
    public void TagsLoseControlCharactersKeepSyntaxCharactersAndAreCapped()
    {
        var o = Parse("mp3", ("title", "A\u0000B\u001b[31mC\u007f;=D\nE\u0085"), ("comment", "x=1;y=2\n[chapter]")).Options!;
        Assert.Equal("AB[31mC;=D\nE", o.Title);
        Assert.Equal("x=1;y=2\n[chapter]", o.Comment);
        Assert.Equal(ConversionOptionsParser.MaxTagBytes, Parse("mp3", ("comment", new string('x', ConversionOptionsParser.MaxTagBytes))).Options!.Comment!.Length);
        Assert.Equal($"comment is {ConversionOptionsParser.MaxTagBytes + 1} bytes long; the limit is {ConversionOptionsParser.MaxTagBytes} bytes.",
            Error(Parse("mp3", ("comment", new string('x', ConversionOptionsParser.MaxTagBytes + 1))), "comment"));
    }

    [Fact]
    public void ABasisKeepsWhatIsNotGivenAndANullResetsAnOption()
    {
        var first = Parse("mp3", ("bitrate", "64"), ("channels", "1"), ("title", "Old")).Options!;
        var second = ConversionOptionsParser.Parse([KeyValuePair.Create("title", (string?)"New"), KeyValuePair.Create("channels", (string?)null)], F("mp3"), first, "mp3").Options!;
        Assert.Equal(64, second.Bitrate);
        Assert.Null(second.Channels);
        Assert.Equal("New", second.Title);

        // Another format: bitrate and quality go back to its defaults; what it cannot take is named.
        var asFlac = ConversionOptionsParser.Parse([], F("flac"), first, "mp3").Options!;
        Assert.Null(asFlac.Bitrate);
        Assert.Equal("Old", asFlac.Title);
        var rated = Parse("wav", ("sampleRate", "44100")).Options!;
        var asOpus = ConversionOptionsParser.Parse([], F("opus"), rated, "wav");
        Assert.StartsWith("sampleRate 44100 is not a rate opus takes", Error(asOpus, "sampleRate"));

        // A quality replaces a stored bitrate rather than clashing with it.
        Assert.Equal(0, ConversionOptionsParser.Parse([KeyValuePair.Create("quality", (string?)"0")], F("mp3"), first, "mp3").Options!.Quality);
    }

    [Fact]
    public void StoredOptionsRoundTripThroughJson()
    {
        var o = Parse("mp3", ("bitrate", "64"), ("title", "a;b=c\nd"), ("loudness", "-16")).Options!;
        Assert.Equal(o, ConversionOptions.FromJson(o.ToJson()));
        Assert.Equal(ConversionOptions.None, ConversionOptions.FromJson(null));
    }

    [Fact]
    public void EveryFormatDescribesItsOptionsForMachines()
    {
        foreach (var format in AudioFormat.All)
        {
            var described = ConversionOptionsParser.Describe(format);
            Assert.Equal(ConversionOptionsParser.NamesFor(format), described.Keys.ToList());
        }

        var mp3 = ConversionOptionsParser.Describe(F("mp3"));
        Assert.Equal(("integer", 32.0, 320.0), (mp3["bitrate"].Type, mp3["bitrate"].Min!.Value, mp3["bitrate"].Max!.Value));
        Assert.Equal(0, mp3["quality"].Best);
        Assert.Equal(2.0, mp3["quality"].Default);
        Assert.Contains(48000, ConversionOptionsParser.Describe(F("opus"))["sampleRate"].Values!.Cast<int>());
        Assert.False(ConversionOptionsParser.Describe(F("flac")).ContainsKey("bitrate"));
    }
}
