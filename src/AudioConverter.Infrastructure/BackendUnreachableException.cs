namespace AudioConverter.Infrastructure;

/// <summary>A configured backend (database, bucket, broker) did not answer; the message names the setting to check.</summary>
public sealed class BackendUnreachableException : Exception
{
    public BackendUnreachableException()
    {
    }

    public BackendUnreachableException(string message)
        : base(message)
    {
    }

    public BackendUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
