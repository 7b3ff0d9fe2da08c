namespace AudioConverter.Infrastructure;

/// <summary>A setting that keeps the host from starting; the message names the setting and what to do.</summary>
public sealed class StartupConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
