using AudioConverter.Core.Conversion;

namespace AudioConverter.Core.Media;

/// <summary>One conversion: a local input (its extension names a headerless format), the target, the resolved options.</summary>
public sealed record ConversionRequest(string InputPath, string OutputPath, AudioFormat Target, ConversionOptions Options);
