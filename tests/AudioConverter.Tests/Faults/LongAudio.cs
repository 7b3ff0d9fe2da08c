using System.Collections.Concurrent;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Faults;

/// <summary>Long inputs whose conversion takes seconds, so a test can act while it runs.</summary>
public static class LongAudio
{
    private static readonly ConcurrentDictionary<int, Lazy<byte[]>> Cache = new();

    /// <summary>A FLAC of a sine tone: small to upload, several seconds to encode to mp3 (about 1 s per 100 s of audio on one thread).</summary>
    public static byte[] Flac(int seconds) => Cache.GetOrAdd(seconds, s => new Lazy<byte[]>(() => Make(s))).Value;

    private static byte[] Make(int seconds)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ac-long-{Guid.NewGuid():N}.flac");
        try
        {
            AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", $"sine=frequency=440:duration={seconds}:sample_rate=44100", "-ac", "2", "-c:a", "flac", path]);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
