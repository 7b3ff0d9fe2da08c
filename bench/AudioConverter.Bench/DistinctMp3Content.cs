using System.Net;
using System.Text;

namespace AudioConverter.Bench;

/// <summary>
/// The bench's MP3 with an ID3v1 tag of its own appended (128 bytes at the end, a title unique to this upload), so each
/// upload's bytes differ and the server's reuse of identical conversions (issue 12, goal 6) does not turn a measured
/// conversion into a copy of an earlier one. ffmpeg reads the tag as metadata; the audio and its decoding cost are the
/// MP3's. Written straight from the shared buffer: no per-upload copy of the file in the bench.
/// </summary>
internal sealed class DistinctMp3Content(ReadOnlyMemory<byte> mp3, string title) : HttpContent
{
    private const int TagBytes = 128;

    /// <summary>An upload of its own: a new title every time.</summary>
    public static DistinctMp3Content Unique(ReadOnlyMemory<byte> mp3) => new(mp3, Guid.NewGuid().ToString("N"));

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) => await SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(mp3, cancellationToken);
        await stream.WriteAsync(Tag(title), cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = mp3.Length + TagBytes;
        return true;
    }

    /// <summary>ID3v1: "TAG", title (30), artist (30), album (30), year (4), comment (30), genre (1); unused fields zero.</summary>
    private static byte[] Tag(string title)
    {
        var tag = new byte[TagBytes];
        Encoding.ASCII.GetBytes("TAG").CopyTo(tag, 0);
        var name = Encoding.ASCII.GetBytes(title);
        name.AsSpan(0, Math.Min(30, name.Length)).CopyTo(tag.AsSpan(3));
        tag[^1] = 255; // no genre
        return tag;
    }
}
