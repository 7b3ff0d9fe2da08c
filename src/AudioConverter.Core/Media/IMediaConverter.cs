using AudioConverter.Core.Tasks;

namespace AudioConverter.Core.Media;

/// <summary>Probes and converts local files.</summary>
public interface IMediaConverter
{
    /// <summary>Reads the streams and duration of a local file; throws <see cref="MediaException"/> if it cannot be read as media.</summary>
    Task<MediaProbe> ProbeAsync(string inputPath, CancellationToken cancellationToken);

    /// <summary>Converts the first audio stream of the input into the target format at the output path.</summary>
    Task ConvertAsync(string inputPath, MediaProbe probe, string outputPath, AudioFormat target, CancellationToken cancellationToken);
}
