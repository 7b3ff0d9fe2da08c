namespace AudioConverter.Infrastructure.Queue;

/// <summary>Pub/Sub answered with an error status; the message says which call and what the service said.</summary>
public sealed class PubSubUnavailableException : Exception
{
    public PubSubUnavailableException()
    {
    }

    public PubSubUnavailableException(string message)
        : base(message)
    {
    }

    public PubSubUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The topic or subscription does not exist (404).</summary>
    public bool NotFound { get; init; }
}
