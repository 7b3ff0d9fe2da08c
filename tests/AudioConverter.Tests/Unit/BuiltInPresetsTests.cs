using AudioConverter.Core.Conversion;
using AudioConverter.Server.Presets;

namespace AudioConverter.Tests.Unit;

public sealed class BuiltInPresetsTests
{
    [Fact]
    public void EveryBuiltInPresetValidatesForItsFormatAndKeepsItsSettings()
    {
        Assert.Equal(["podcast speech", "voice memo", "archival lossless", "high-quality music", "telephony"], BuiltInPresets.All.Select(p => p.Name));
        foreach (var preset in BuiltInPresets.All)
        {
            Assert.Null(PresetName.Problem(preset.Name));
            var format = AudioFormat.Find(preset.NewFormat)!;
            // Round trip through the validator: what is stored is exactly what the validator accepts again.
            var again = ConversionOptionsParser.Parse([], format, preset.Options, preset.NewFormat);
            Assert.True(again.IsValid, string.Join(" ", again.Errors.Values.SelectMany(v => v)));
            Assert.Equal(preset.Options, again.Options);
        }

        var podcast = BuiltInPresets.Find("podcast speech")!;
        Assert.Equal(("mp3", 64, 1, -16.0), (podcast.NewFormat, podcast.Options.Bitrate, podcast.Options.Channels, podcast.Options.Loudness));
        var memo = BuiltInPresets.Find("voice memo")!;
        Assert.Equal(("opus", 24, 1, 16000), (memo.NewFormat, memo.Options.Bitrate, memo.Options.Channels, memo.Options.SampleRate));
        Assert.Equal(("wav", 8000, 1), (BuiltInPresets.Find("telephony")!.NewFormat, BuiltInPresets.Find("telephony")!.Options.SampleRate, BuiltInPresets.Find("telephony")!.Options.Channels));
    }

    [Theory]
    [InlineData("my preset")]
    [InlineData("a")]
    [InlineData("v1.2_final-mix")]
    public void AllowedNames(string name) => Assert.Null(PresetName.Problem(name));

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("Upper")]
    [InlineData("semi;colon")]
    [InlineData("slash/name")]
    [InlineData(" leading")]
    [InlineData("trailing ")]
    [InlineData("new\nline")]
    [InlineData("ünïcode")]
    public void ForbiddenNames(string? name) => Assert.NotNull(PresetName.Problem(name));

    [Fact]
    public void ANameOfSixtyFiveCharactersIsTooLong()
    {
        Assert.Null(PresetName.Problem(new string('a', 64)));
        Assert.Equal("The preset name is 65 characters long; the most is 64.", PresetName.Problem(new string('a', 65)));
    }
}
