namespace AudioConverter.Infrastructure.Queue;

/// <summary>Queue:RabbitMq — a durable quorum queue with publisher confirms and a dead-letter queue.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "Queue:RabbitMq";

    /// <summary>amqp://user:password@host:5672/vhost (amqps:// for TLS).</summary>
    public string Uri { get; set; } = "";

    public string QueueName { get; set; } = "audioconverter.tasks";

    /// <summary>Messages a worker process holds unacknowledged; 0 means Worker:Concurrency (one per conversion loop).</summary>
    public int Prefetch { get; set; }

    /// <summary>Deliveries of one message before it moves to the dead-letter queue (QueueName + ".dead").</summary>
    public int DeliveryLimit { get; set; } = 5;

    /// <summary>How long a publish may wait for the broker's confirm.</summary>
    public int PublishTimeoutSeconds { get; set; } = 10;

    public TimeSpan PublishTimeout => TimeSpan.FromSeconds(PublishTimeoutSeconds);

    /// <summary>
    /// The most messages the dead-letter queue keeps (x-max-length; the oldest are dropped beyond it). The sweeper
    /// drains it anyway: the rows are the truth and every task still owed a message is published again.
    /// </summary>
    public int DeadLetterMaxLength { get; set; } = 10_000;

    /// <summary>
    /// The broker's consumer_timeout (rabbitmq.conf; 1800 s, 30 minutes, by default): the broker closes the channel of a
    /// consumer that holds a message longer. AMQP cannot read it, so set it here when the broker's differs. At start a
    /// worker refuses to run when Media:ConversionTimeoutSeconds is not shorter.
    /// </summary>
    public int ConsumerTimeoutSeconds { get; set; } = 1800;

    public IEnumerable<string> Errors()
    {
        if (!System.Uri.TryCreate(Uri, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            yield return $"Queue:RabbitMq:Uri '{Redacted}' is not an amqp:// or amqps:// URI such as amqp://guest:guest@127.0.0.1:5672/.";
        }

        if (string.IsNullOrWhiteSpace(QueueName))
        {
            yield return "Queue:RabbitMq:QueueName is required.";
        }

        if (Prefetch is < 0 or > 65535)
        {
            yield return "Queue:RabbitMq:Prefetch must be between 0 and 65535.";
        }

        if (DeliveryLimit is < 1 or > 1000)
        {
            yield return "Queue:RabbitMq:DeliveryLimit must be between 1 and 1000.";
        }

        if (DeadLetterMaxLength is < 1)
        {
            yield return "Queue:RabbitMq:DeadLetterMaxLength must be at least 1.";
        }

        if (ConsumerTimeoutSeconds is < 1)
        {
            yield return "Queue:RabbitMq:ConsumerTimeoutSeconds must be at least 1 (the broker's consumer_timeout in seconds).";
        }
    }

    /// <summary>The URI without its password, for messages.</summary>
    public string Redacted => System.Uri.TryCreate(Uri, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
        ? Uri.Replace(uri.UserInfo + "@", uri.UserInfo.Split(':')[0] + ":***@", StringComparison.Ordinal)
        : Uri;
}
