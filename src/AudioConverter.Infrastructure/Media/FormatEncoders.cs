using System.Globalization;
using AudioConverter.Core.Conversion;

namespace AudioConverter.Infrastructure.Media;

/// <summary>How ffmpeg makes each target format: its encoder, muxer and rate-control flags.</summary>
public static class FormatEncoders
{
    /// <summary>The ffmpeg muxer of a format.</summary>
    public static string Muxer(AudioFormat format) => format.Name switch
    {
        "mp3" => "mp3",
        "wav" => "wav",
        "ogg" => "ogg",
        "m4a" => "ipod",
        "aac" => "adts",
        "flac" => "flac",
        "opus" => "opus",
        "wma" => "asf",
        _ => throw new ArgumentException($"No muxer is known for '{format.Name}'.", nameof(format)),
    };

    /// <summary>The container name ffprobe reports for a format's files (one of its comma-separated format names).</summary>
    public static string ProbedContainer(AudioFormat format) => format.Name switch
    {
        "m4a" => "mp4",
        "aac" => "aac",
        "opus" => "ogg",
        "wma" => "asf",
        _ => Muxer(format),
    };

    /// <summary>The ffmpeg encoder of a format.</summary>
    public static string Encoder(AudioFormat format) => format.Name switch
    {
        "mp3" => "libmp3lame",
        "wav" => "pcm_s16le",
        "ogg" => "libvorbis",
        "m4a" or "aac" => "aac",
        "flac" => "flac",
        "opus" => "libopus",
        "wma" => "wmav2",
        _ => throw new ArgumentException($"No encoder is known for '{format.Name}'.", nameof(format)),
    };

    /// <summary>The encoder and its rate control for resolved options: a constant bitrate, or a quality on the codec's scale.</summary>
    public static IReadOnlyList<string> EncoderArguments(AudioFormat format, ConversionOptions options)
    {
        var arguments = new List<string> { "-c:a", Encoder(format) };
        if (options.Bitrate is { } kbps && format.Capabilities.Bitrate is not null)
        {
            arguments.AddRange(["-b:a", kbps.ToString(CultureInfo.InvariantCulture) + "k"]);
            if (format.Name == "mp3")
            {
                // LAME's -b alone is already CBR; -abr 0 keeps it from switching to ABR.
                arguments.AddRange(["-abr", "0"]);
            }
            else if (format.Name == "opus")
            {
                arguments.AddRange(["-vbr", "off"]);
            }
            else if (format.Name == "ogg")
            {
                // libvorbis's -b alone is an average; bounding it both ways makes it a managed constant bitrate.
                var rate = kbps.ToString(CultureInfo.InvariantCulture) + "k";
                arguments.AddRange(["-minrate", rate, "-maxrate", rate]);
            }
        }
        else if (options.Quality is { } quality && format.Capabilities.Quality is not null)
        {
            arguments.AddRange(["-q:a", quality.ToString("0.###", CultureInfo.InvariantCulture)]);
        }

        if (format.Name == "m4a")
        {
            arguments.AddRange(["-movflags", "+faststart"]);
        }
        else if (format.Name == "wav")
        {
            // A WAV over 4 GiB cannot be described by a RIFF header: ffmpeg then writes RF64.
            arguments.AddRange(["-rf64", "auto"]);
        }
        else if (format.Name == "mp3")
        {
            arguments.AddRange(["-id3v2_version", "3"]);
        }

        return arguments;
    }
}
