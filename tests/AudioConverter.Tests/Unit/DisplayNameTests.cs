using AudioConverter.Core.Tasks;

namespace AudioConverter.Tests.Unit;

[Trait("Layer", "Unit")]
public sealed class DisplayNameTests
{
    [Theory]
    [InlineData("song.mp3", "song.mp3")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("C:\\Users\\me\\Music\\track.flac", "track.flac")]
    [InlineData("folder/sub\\mixed/name.wav", "name.wav")]
    [InlineData("  spaced.ogg  ", "spaced.ogg")]
    [InlineData("...hidden.mp3...", "hidden.mp3")]
    [InlineData("Björk – Jóga.m4a", "Björk – Jóga.m4a")]
    [InlineData("日本語の歌.mp3", "日本語の歌.mp3")]
    public void KeepsOnlyTheLastPathSegmentTrimmed(string raw, string expected) =>
        Assert.Equal(expected, DisplayName.Sanitize(raw, "mp3"));

    [Theory]
    [InlineData("bad\u0000name.mp3", "badname.mp3")]
    [InlineData("line\r\nbreak.mp3", "linebreak.mp3")]
    [InlineData("right\u202Eto-left.mp3", "rightto-left.mp3")]
    [InlineData("zero\u200Bwidth.mp3", "zerowidth.mp3")]
    [InlineData("para\u2029graph\u2028.mp3", "paragraph.mp3")]
    [InlineData("private\uE000use.mp3", "privateuse.mp3")]
    public void DropsControlFormatAndInvisibleCharacters(string raw, string expected) =>
        Assert.Equal(expected, DisplayName.Sanitize(raw, "mp3"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("...")]
    [InlineData("dir/")]
    [InlineData("\u0001\u0002")]
    public void NothingLeftFallsBackToAudioWithTheFormatsExtension(string? raw) =>
        Assert.Equal("audio.wav", DisplayName.Sanitize(raw, "wav"));

    [Fact]
    public void ALongNameIsCutToTheLimitKeepingItsExtension()
    {
        var name = DisplayName.Sanitize(new string('a', 500) + ".flac", "mp3");

        Assert.Equal(DisplayName.MaxLength, name.Length);
        Assert.EndsWith(".flac", name, StringComparison.Ordinal);
        Assert.Equal(new string('a', DisplayName.MaxLength - 5), name[..^5]);
    }

    [Fact]
    public void TheCutNeverSplitsASurrogatePair()
    {
        // 😀 is two UTF-16 units; a cut at an odd place would leave half of one.
        var name = DisplayName.Sanitize("x" + string.Concat(Enumerable.Repeat("😀", 150)) + ".mp3", "mp3");

        Assert.True(name.Length <= DisplayName.MaxLength);
        Assert.EndsWith(".mp3", name, StringComparison.Ordinal);
        Assert.True(System.Text.Unicode.Utf8.IsValid(System.Text.Encoding.UTF8.GetBytes(name)));
        Assert.Equal(name, System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(name)));
    }

    [Theory]
    [InlineData("song.MP3", "mp3")]
    [InlineData("archive.tar.gz", "gz")]
    [InlineData("noextension", "")]
    [InlineData("trailingdot.", "")]
    [InlineData("weird.ex$t", "")]
    [InlineData("toolong.abcdefghijk", "")]
    [InlineData("ok.abcdefghij", "abcdefghij")]
    public void ExtensionIsLowerCaseAsciiOfAtMostTenCharacters(string name, string expected) =>
        Assert.Equal(expected, DisplayName.Extension(name));

    [Theory]
    [InlineData("song.mp3", "wav", "song.wav")]
    [InlineData("my.live.set.flac", "mp3", "my.live.set.mp3")]
    [InlineData("noextension", "ogg", "noextension.ogg")]
    [InlineData(".hidden", "mp3", ".hidden.mp3")]
    public void TheConvertedNameKeepsTheStemWithTheNewExtension(string name, string extension, string expected) =>
        Assert.Equal(expected, DisplayName.WithExtension(name, extension));
}
