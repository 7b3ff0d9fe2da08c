namespace AudioConverter.Core.Media;

/// <summary>Converts local files.</summary>
public interface IMediaConverter
{
    /// <summary>
    /// Converts the first audio stream of the input into the target with the request's options, reports progress
    /// (0-100, at most about once a second) and verifies the output; throws <see cref="MediaException"/> when the input
    /// has no audio, is longer than allowed, does not decode, or the output is cut short by a limit.
    /// </summary>
    Task<ConversionResult> ConvertAsync(ConversionRequest request, IProgress<int>? progress, CancellationToken cancellationToken);
}
