using System.Text;
using AudioConverter.Core.Tasks;

namespace AudioConverter.Tests.Unit;

[Trait("Layer", "Unit")]
public sealed class UploadInspectionTests
{
    public static TheoryData<string, byte[]> AudioHeads => new()
    {
        { "mp3 with ID3", Head("ID3"u8) },
        { "wav", Head("RIFF\0\0\0\0WAVE"u8) },
        { "avi", Head("RIFF\0\0\0\0AVI "u8) },
        { "rf64", Head("RF64"u8) },
        { "ogg", Head("OggS"u8) },
        { "flac", Head("fLaC"u8) },
        { "m4a", Head("\0\0\0\u0020ftypM4A "u8) },
        { "asf", Head([0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) },
        { "aiff", Head("FORM\0\0\0\0AIFF"u8) },
        { "caf", Head("caff"u8) },
        { "matroska", Head([0x1A, 0x45, 0xDF, 0xA3]) },
        { "amr", Head("#!AMR"u8) },
        { "au", Head(".snd"u8) },
        { "ape", Head("MAC "u8) },
        { "wavpack", Head("wvpk"u8) },
        { "musepack", Head("MPCK"u8) },
        { "mpeg frame", Head([0xFF, 0xFB, 0x90, 0x64]) },
        { "adts", Head([0xFF, 0xF1, 0x50, 0x80]) },
    };

    [Theory]
    [MemberData(nameof(AudioHeads))]
    public void KnownAudioSignaturesAreAccepted(string kind, byte[] head) =>
        Assert.True(UploadInspection.Refusal(head, "bin") is null, kind);

    [Fact]
    public void AnEmptyFileIsRefused() => Assert.Equal("The file is empty.", UploadInspection.Refusal([], "mp3"));

    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A })]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10 })]
    [InlineData(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' })]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 0, 0, 0, 0, (byte)'W', (byte)'E', (byte)'B', (byte)'P' })]
    public void ImagesAreRefusedAsImages(byte[] head) =>
        Assert.Equal("The file is an image, not audio.", UploadInspection.Refusal(head, "mp3"));

    [Theory]
    [InlineData("#EXTM3U\nhttp://example.com/a.mp3")]
    [InlineData("\uFEFF  #extm3u\n")]
    [InlineData("ffconcat version 1.0\nfile /etc/passwd")]
    [InlineData("[playlist]\nFile1=x")]
    [InlineData("<?xml version=\"1.0\"?>")]
    public void PlaylistsAndDocumentsAreRefusedEvenWithABomOrLeadingSpace(string text) =>
        Assert.Equal("Playlists and text documents are not accepted; upload the audio file itself.", UploadInspection.Refusal(Encoding.UTF8.GetBytes(text), "mp3"));

    [Theory]
    [InlineData("just some notes\r\n")]
    [InlineData("Grüße aus München – ça va?")]
    public void PlainTextIsRefusedAsText(string text) =>
        Assert.Equal("The file is text, not audio.", UploadInspection.Refusal(Encoding.UTF8.GetBytes(text), "mp3"));

    [Theory]
    [InlineData("mp3")]
    [InlineData("MP2")]
    [InlineData("aac")]
    public void AnImplausibleFrameHeaderIsAcceptedOnlyWhenTheExtensionNamesRawMpegAudio(string extension)
    {
        // Bitrate index 15 is not a valid MPEG header: only the extension vouches for it.
        byte[] head = [0xFF, 0xFB, 0xF0, 0x00, 0x01, 0x02];

        Assert.Null(UploadInspection.Refusal(head, extension));
        Assert.Equal("The file is not a recognised audio format (no known audio signature).", UploadInspection.Refusal(head, "wav"));
    }

    [Fact]
    public void UnknownBinaryIsRefusedWithTheReason() =>
        Assert.Equal("The file is not a recognised audio format (no known audio signature).", UploadInspection.Refusal([0x00, 0x01, 0x02, 0x03, 0x7F, 0x10], "mp3"));

    /// <summary>A signature followed by binary filler up to the inspected length.</summary>
    private static byte[] Head(ReadOnlySpan<byte> signature)
    {
        var head = new byte[UploadInspection.HeadLength];
        for (var i = 0; i < head.Length; i++)
        {
            head[i] = (byte)(i % 7 == 0 ? 0x00 : 0x81);
        }

        signature.CopyTo(head);
        return head;
    }
}
