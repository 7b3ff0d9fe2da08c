using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure.Queue;

public sealed class QueueOptions
{
    public const string Section = "Queue";

    /// <summary>InProcess (embedded default), RabbitMq or PubSub.</summary>
    [Required]
    public string Provider { get; set; } = "InProcess";
}
