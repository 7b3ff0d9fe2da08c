namespace AudioConverter.Infrastructure.Queue;

public sealed class QueueOptions
{
    public const string Section = "Queue";

    /// <summary>InProcess (embedded default), RabbitMq or PubSub.</summary>
    [OneOf("InProcess", "RabbitMq", "PubSub")]
    public string Provider { get; set; } = "InProcess";

    /// <summary>
    /// Lets an API-only process run on the in-process queue, for a read-only front or a test that deliberately
    /// converts nothing; otherwise split roles need RabbitMq or PubSub.
    /// </summary>
    public bool InProcessWithoutWorker { get; set; }

    public bool IsInProcess => OneOfAttribute.Is(Provider, "InProcess");

    public bool IsRabbitMq => OneOfAttribute.Is(Provider, "RabbitMq");

    public bool IsPubSub => OneOfAttribute.Is(Provider, "PubSub");
}
