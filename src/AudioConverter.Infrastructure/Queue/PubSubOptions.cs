using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>Queue:PubSub — Google Cloud Pub/Sub through its REST API (or the emulator).</summary>
public sealed class PubSubOptions
{
    public const string Section = "Queue:PubSub";

    [Required(ErrorMessage = "{0} is required when Queue:Provider is PubSub.")]
    public string ProjectId { get; set; } = "";

    [Required]
    public string Topic { get; set; } = "audioconverter-tasks";

    [Required]
    public string Subscription { get; set; } = "audioconverter-workers";

    /// <summary>Create the topic and subscription at start-up when missing (the emulator, or a service account allowed to).</summary>
    public bool CreateResources { get; set; }

    /// <summary>host:port of the emulator; empty uses PUBSUB_EMULATOR_HOST, and without either the real service with Application Default Credentials.</summary>
    public string EmulatorHost { get; set; } = "";

    public string Endpoint { get; set; } = "https://pubsub.googleapis.com/";

    /// <summary>Ack deadline of the subscription; a running conversion extends it.</summary>
    [Range(10, 600)]
    public int AckDeadlineSeconds { get; set; } = 60;

    public TimeSpan AckDeadline => TimeSpan.FromSeconds(AckDeadlineSeconds);

    /// <summary>Optional topic that receives messages a worker gives up on (nack without requeue).</summary>
    public string DeadLetterTopic { get; set; } = "";

    /// <summary>The subscription on DeadLetterTopic that the sweeper drains (the rows are the truth); empty means DeadLetterTopic + "-drain".</summary>
    public string DeadLetterSubscription { get; set; } = "";

    public string EffectiveDeadLetterSubscription => DeadLetterSubscription.Length > 0 ? DeadLetterSubscription : DeadLetterTopic + "-drain";

    /// <summary>The emulator's host:port, from this option or PUBSUB_EMULATOR_HOST; null for the real service.</summary>
    public string? EffectiveEmulatorHost =>
        EmulatorHost.Length > 0 ? EmulatorHost : Environment.GetEnvironmentVariable("PUBSUB_EMULATOR_HOST") is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
}
