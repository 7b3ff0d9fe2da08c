using System.Text;

namespace AudioConverter.Core.Tasks;

/// <summary>
/// The cheap in-process check of an upload's first bytes: a known audio or media container
/// signature, or a headerless format named by its extension. The full probe runs in the worker.
/// </summary>
public static class UploadInspection
{
    /// <summary>How many leading bytes the check needs.</summary>
    public const int HeadLength = 64;

    /// <summary>Returns null when the head looks like audio, else a message saying why the file is refused.</summary>
    public static string? Refusal(ReadOnlySpan<byte> head, string extension)
    {
        if (head.IsEmpty)
        {
            return "The file is empty.";
        }

        if (LooksLikeImage(head))
        {
            return "The file is an image, not audio.";
        }

        if (StartsWithText(head, "#EXTM3U") || StartsWithText(head, "ffconcat") || StartsWithText(head, "[playlist]") || StartsWithText(head, "<?xml"))
        {
            return "Playlists and text documents are not accepted; upload the audio file itself.";
        }

        if (HasMediaSignature(head))
        {
            return null;
        }

        if (IsMostlyText(head))
        {
            return "The file is text, not audio.";
        }

        // Headerless recordings (raw telephony, raw PCM) carry no signature: accepted by their extension alone, still
        // after the image, playlist and text checks above; the worker decodes them with the matching raw demuxer.
        if (Media.HeaderlessFormat.Find(extension) is not null)
        {
            return null;
        }

        // Raw MPEG audio frames and ADTS without a container: accepted when the extension names them.
        if (head.Length >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0 &&
            extension.ToLowerInvariant() is "mp3" or "mp2" or "mpga" or "aac" or "adts")
        {
            return null;
        }

        return "The file is not a recognised audio format (no known audio signature).";
    }

    private static bool HasMediaSignature(ReadOnlySpan<byte> h)
    {
        return StartsWith(h, "ID3"u8)                                   // MP3 with ID3v2 tag
            || (h.Length >= 12 && StartsWith(h, "RIFF"u8) && (h[8..12].SequenceEqual("WAVE"u8) || h[8..12].SequenceEqual("AVI "u8)))
            || StartsWith(h, "RF64"u8) || StartsWith(h, "BW64"u8)
            || StartsWith(h, "OggS"u8)
            || StartsWith(h, "fLaC"u8)
            || (h.Length >= 8 && h[4..8].SequenceEqual("ftyp"u8))     // MP4 / M4A / 3GP / MOV
            || StartsWith(h, [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) // ASF (WMA)
            || (h.Length >= 12 && StartsWith(h, "FORM"u8) && (h[8..12].SequenceEqual("AIFF"u8) || h[8..12].SequenceEqual("AIFC"u8)))
            || StartsWith(h, "caff"u8)
            || StartsWith(h, [0x1A, 0x45, 0xDF, 0xA3])                 // Matroska / WebM
            || StartsWith(h, "#!AMR"u8)
            || StartsWith(h, ".snd"u8)
            || StartsWith(h, "MAC "u8)                                 // Monkey's Audio
            || StartsWith(h, "wvpk"u8)                                 // WavPack
            || StartsWith(h, "TTA1"u8)
            || StartsWith(h, "MPCK"u8) || StartsWith(h, "MP+"u8)       // Musepack
            || (h.Length >= 3 && h[0] == 0xFF && (h[1] & 0xE0) == 0xE0 && IsPlausibleMpegHeader(h))
            || (h.Length >= 2 && h[0] == 0xFF && (h[1] & 0xF6) == 0xF0); // ADTS sync word, layer 0
    }

    private static bool IsPlausibleMpegHeader(ReadOnlySpan<byte> h)
    {
        var version = (h[1] >> 3) & 0x3;
        var layer = (h[1] >> 1) & 0x3;
        var bitrate = (h[2] >> 4) & 0xF;
        var sampleRate = (h[2] >> 2) & 0x3;
        return version != 1 && layer != 0 && bitrate != 0xF && sampleRate != 0x3;
    }

    private static bool LooksLikeImage(ReadOnlySpan<byte> h) =>
        StartsWith(h, [0x89, 0x50, 0x4E, 0x47])      // PNG
        || StartsWith(h, [0xFF, 0xD8, 0xFF])         // JPEG
        || StartsWith(h, "GIF8"u8)
        || StartsWith(h, "BM"u8) && h.Length >= 6 && IsMostlyBinary(h)
        || (h.Length >= 12 && StartsWith(h, "RIFF"u8) && h[8..12].SequenceEqual("WEBP"u8));

    private static bool IsMostlyBinary(ReadOnlySpan<byte> h) => !IsMostlyText(h);

    private static bool IsMostlyText(ReadOnlySpan<byte> h)
    {
        var printable = 0;
        foreach (var b in h)
        {
            if (b is >= 0x20 and < 0x7F or (byte)'\n' or (byte)'\r' or (byte)'\t' or >= 0x80)
            {
                printable++;
            }
        }

        // UTF-8 text, including BOM and non-ASCII letters, counts as text when nothing looks like binary.
        return printable == h.Length && Encoding.UTF8.GetCharCount(h) > 0 && IsValidUtf8(h);
    }

    private static bool IsValidUtf8(ReadOnlySpan<byte> h)
    {
        // The head may cut a multi-byte sequence in half; allow up to 3 trailing bytes.
        for (var cut = 0; cut <= Math.Min(3, h.Length); cut++)
        {
            if (System.Text.Unicode.Utf8.IsValid(h[..^cut]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool StartsWithText(ReadOnlySpan<byte> h, string text)
    {
        var trimmed = h;
        if (StartsWith(trimmed, [0xEF, 0xBB, 0xBF]))
        {
            trimmed = trimmed[3..];
        }

        while (!trimmed.IsEmpty && trimmed[0] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            trimmed = trimmed[1..];
        }

        return trimmed.Length >= text.Length && Encoding.ASCII.GetString(trimmed[..text.Length]).Equals(text, StringComparison.OrdinalIgnoreCase);
    }

    private static bool StartsWith(ReadOnlySpan<byte> h, ReadOnlySpan<byte> prefix) => h.StartsWith(prefix);
}
