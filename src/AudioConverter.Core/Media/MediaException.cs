namespace AudioConverter.Core.Media;

/// <summary>A conversion that did not succeed; the message is meant for the task's owner.</summary>
public sealed class MediaException(string message, bool isInputFault, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>True when retrying cannot help (the input is bad); false for transient failures.</summary>
    public bool IsInputFault { get; } = isInputFault;
}
