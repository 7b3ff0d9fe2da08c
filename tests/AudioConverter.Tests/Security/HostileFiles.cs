using System.Buffers.Binary;
using System.Text;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Security;

/// <summary>Files made to hurt a converter: playlists that point elsewhere, decompression bombs, lying headers, giant tags.</summary>
public static class HostileFiles
{
    /// <summary>An ID3v2 header with no frames: ten bytes that make anything after them pass a cheap "is this an MP3" check.</summary>
    public static readonly byte[] EmptyId3Header = [(byte)'I', (byte)'D', (byte)'3', 4, 0, 0, 0, 0, 0, 0];

    public static byte[] HlsPlaylist(int port, string secretPath) => Encoding.ASCII.GetBytes(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n" +
        $"#EXTINF:10,\nhttp://127.0.0.1:{port}/secret.ts\n" +
        $"#EXTINF:10,\nfile://{secretPath}\n" +
        "#EXT-X-ENDLIST\n");

    public static byte[] ConcatList(int port, string secretPath) => Encoding.ASCII.GetBytes(
        "ffconcat version 1.0\n" +
        $"file 'http://127.0.0.1:{port}/secret.ts'\n" +
        "file '/etc/passwd'\n" +
        $"file '{secretPath}'\n");

    public static byte[] Playlist(string kind, int port, string secretPath) =>
        kind == "hls" ? HlsPlaylist(port, secretPath) : ConcatList(port, secretPath);

    public static byte[] Id3Prefixed(byte[] content) => [.. EmptyId3Header, .. content];

    /// <summary>A local file whose content must never show up anywhere (named .ts, a segment extension HLS accepts).</summary>
    public static string SecretFile(out string marker)
    {
        marker = "SECRET-" + Guid.NewGuid().ToString("N");
        var path = Path.Combine(Path.GetTempPath(), "ac-secrets", Guid.NewGuid().ToString("N") + ".ts");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, marker + "\n");
        return path;
    }

    /// <summary>Hours of silence in a FLAC of a few tens of kilobytes.</summary>
    public static byte[] SilenceFlac(int seconds)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ac-silence-{Guid.NewGuid():N}.flac");
        try
        {
            AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c:a", "flac", "-frame_size", "65535", path]);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A real one-second WAV whose RIFF and data sizes claim about 4 GB.</summary>
    public static byte[] WavClaimingGigabytes()
    {
        var wav = AudioSamples.Get("wav", 1).ToArray();
        var data = wav.AsSpan().IndexOf("data"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(4), 0xFFFF_FFF0);
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(data + 4), 0xFFFF_FF00);
        return wav;
    }

    /// <summary>A real MP3 behind an ID3v2.3 tag with one comment frame of the given size.</summary>
    public static byte[] Mp3WithHugeComment(int commentBytes)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ac-notag-{Guid.NewGuid():N}.mp3");
        byte[] mp3;
        try
        {
            AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "0", "-write_xing", "0", path]);
            mp3 = File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }

        // COMM frame: encoding, language, empty description, then the text.
        var body = new byte[1 + 3 + 1 + commentBytes];
        body[0] = 0;
        "eng"u8.CopyTo(body.AsSpan(1));
        body.AsSpan(5).Fill((byte)'A');
        var frame = new byte[10 + body.Length];
        "COMM"u8.CopyTo(frame);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(4), body.Length);
        body.CopyTo(frame, 10);
        var header = new byte[10];
        "ID3"u8.CopyTo(header);
        header[3] = 3;
        var size = frame.Length;
        header[6] = (byte)((size >> 21) & 0x7F);
        header[7] = (byte)((size >> 14) & 0x7F);
        header[8] = (byte)((size >> 7) & 0x7F);
        header[9] = (byte)(size & 0x7F);
        return [.. header, .. frame, .. mp3];
    }
}
