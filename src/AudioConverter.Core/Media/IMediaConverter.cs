using AudioConverter.Core.Tasks;

namespace AudioConverter.Core.Media;

/// <summary>Converts local files.</summary>
public interface IMediaConverter
{
    /// <summary>
    /// Converts the first audio stream of the input into the target format at the output path, reading the input's
    /// container, codec and duration on the way; throws <see cref="MediaException"/> when the input has no audio,
    /// is longer than allowed, or does not decode.
    /// </summary>
    Task<ConversionResult> ConvertAsync(string inputPath, string outputPath, AudioFormat target, CancellationToken cancellationToken);
}
