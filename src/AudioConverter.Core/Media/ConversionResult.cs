namespace AudioConverter.Core.Media;

/// <summary>What a conversion found in its input and produced.</summary>
public sealed record ConversionResult(string InputFormat, string? InputCodec, double? InputDurationSeconds, double? OutputDurationSeconds);
