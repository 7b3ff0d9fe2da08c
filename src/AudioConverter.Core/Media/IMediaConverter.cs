using AudioConverter.Core.Tasks;

namespace AudioConverter.Core.Media;

/// <summary>Probes and converts local files.</summary>
public interface IMediaConverter
{
    /// <summary>Reads the streams and duration of a local file; throws <see cref="MediaException"/> if it cannot be read as media.</summary>
    Task<MediaProbe> ProbeAsync(string inputPath, CancellationToken cancellationToken);

    /// <summary>
    /// Converts the first audio stream of the input into the target format at the output path, reading the input's
    /// container, codec and duration on the way; throws <see cref="MediaException"/> when the input has no audio,
    /// is longer than allowed, or does not decode.
    /// </summary>
    Task<ConversionResult> ConvertAsync(string inputPath, string outputPath, AudioFormat target, CancellationToken cancellationToken);
}
