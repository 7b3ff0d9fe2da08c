using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>Queue:RabbitMq — a durable quorum queue with publisher confirms and a dead-letter queue.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "Queue:RabbitMq";

    /// <summary>amqp://user:password@host:5672/vhost (amqps:// for TLS).</summary>
    public string Uri { get; set; } = "";

    [Required]
    public string QueueName { get; set; } = "audioconverter.tasks";

    /// <summary>Messages a worker process holds unacknowledged; 0 means one per conversion loop (the host sets it from Worker:Concurrency).</summary>
    [Range(0, 65535)]
    public int Prefetch { get; set; }

    /// <summary>Deliveries of one message before it moves to the dead-letter queue (QueueName + ".dead").</summary>
    [Range(1, 1000)]
    public int DeliveryLimit { get; set; } = 5;

    /// <summary>How long a publish may wait for the broker's confirm.</summary>
    [Range(1, 600)]
    public int PublishTimeoutSeconds { get; set; } = 10;

    public TimeSpan PublishTimeout => TimeSpan.FromSeconds(PublishTimeoutSeconds);

    /// <summary>
    /// The most messages the dead-letter queue keeps (x-max-length; the oldest are dropped beyond it). The sweeper
    /// drains it anyway: the rows are the truth and every task still owed a message is published again.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int DeadLetterMaxLength { get; set; } = 10_000;

    /// <summary>
    /// The broker's consumer_timeout (rabbitmq.conf; 1800 s, 30 minutes, by default): the broker closes the channel of a
    /// consumer that holds a message longer. AMQP cannot read it, so set it here when the broker's differs. At start a
    /// worker refuses to run when Media:ConversionTimeoutSeconds is not shorter.
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "{0} must be at least 1 (the broker's consumer_timeout in seconds).")]
    public int ConsumerTimeoutSeconds { get; set; } = 1800;

    public TimeSpan ConsumerTimeout => TimeSpan.FromSeconds(ConsumerTimeoutSeconds);

    /// <summary>The URI without its password, for messages.</summary>
    public string Redacted => System.Uri.TryCreate(Uri, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
        ? Uri.Replace(uri.UserInfo + "@", uri.UserInfo.Split(':')[0] + ":***@", StringComparison.Ordinal)
        : Uri;
}
