using System.Net;
using System.Text;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// A multipart upload of a WAV that announces its full length, sends the first part quickly, then trickles
/// a byte at a time until disposed: the server holds a half-written file when the test strikes.
/// </summary>
public sealed class StalledUpload : HttpContent
{
    private const string Boundary = "stalled-upload-boundary";
    private readonly long fileBytes;
    private readonly long sendBeforeStalling;
    private readonly byte[] preamble;
    private readonly byte[] epilogue;
    private readonly CancellationTokenSource stop = new();

    public StalledUpload(long fileBytes, long sendBeforeStalling)
    {
        this.fileBytes = fileBytes;
        this.sendBeforeStalling = sendBeforeStalling;
        preamble = Encoding.ASCII.GetBytes(
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"newFormat\"\r\n\r\nmp3\r\n" +
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"fileName\"; filename=\"big.wav\"\r\nContent-Type: audio/wav\r\n\r\n");
        epilogue = Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n");
        Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");
        Headers.ContentLength = preamble.Length + fileBytes + epilogue.Length;
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(preamble);
        await stream.WriteAsync(WavHeader(fileBytes));
        var chunk = new byte[64 * 1024];
        for (long sent = 44; sent < sendBeforeStalling; sent += chunk.Length)
        {
            await stream.WriteAsync(chunk);
        }

        // Then a trickle, so the client notices when the server goes away (a silent stall would wait forever).
        while (true)
        {
            await stream.FlushAsync();
            await Task.Delay(200, stop.Token);
            await stream.WriteAsync(chunk.AsMemory(0, 1));
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = Headers.ContentLength!.Value;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            stop.Cancel();
            stop.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>A 44-byte PCM WAV header (16-bit stereo 44.1 kHz) for a file of the given total length.</summary>
    public static byte[] WavHeader(long totalBytes)
    {
        var header = new byte[44];
        var data = (uint)Math.Min(totalBytes - 44, uint.MaxValue - 36);
        Encoding.ASCII.GetBytes("RIFF").CopyTo(header, 0);
        BitConverter.TryWriteBytes(header.AsSpan(4), data + 36);
        Encoding.ASCII.GetBytes("WAVEfmt ").CopyTo(header, 8);
        BitConverter.TryWriteBytes(header.AsSpan(16), 16);
        BitConverter.TryWriteBytes(header.AsSpan(20), (short)1);
        BitConverter.TryWriteBytes(header.AsSpan(22), (short)2);
        BitConverter.TryWriteBytes(header.AsSpan(24), 44100);
        BitConverter.TryWriteBytes(header.AsSpan(28), 44100 * 4);
        BitConverter.TryWriteBytes(header.AsSpan(32), (short)4);
        BitConverter.TryWriteBytes(header.AsSpan(34), (short)16);
        Encoding.ASCII.GetBytes("data").CopyTo(header, 36);
        BitConverter.TryWriteBytes(header.AsSpan(40), data);
        return header;
    }
}
