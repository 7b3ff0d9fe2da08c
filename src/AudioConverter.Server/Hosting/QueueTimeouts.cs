using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Server.Worker;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Hosting;

/// <summary>
/// Checks, before a worker starts, that the broker will not take a message away from a conversion that is still
/// allowed to run: RabbitMQ closes the channel of a consumer that holds a message past its consumer_timeout, and
/// Pub/Sub redelivers a message whose ack deadline passes before the lease renewer extends it. A rule of the
/// worker's settings, so it is checked at start with the others; only the chosen queue's settings are read.
/// </summary>
public sealed class QueueTimeouts(IOptions<MediaOptions> media, IOptions<QueueOptions> queue, IServiceProvider services) : IValidateOptions<WorkerOptions>
{
    /// <summary>Time a task needs besides ffmpeg itself: download, probe, upload, recording the outcome.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(60);

    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var problem = queue.Value.IsRabbitMq ? RabbitMq(media.Value.ConversionTimeout, services.GetRequiredService<IOptions<RabbitMqOptions>>().Value.ConsumerTimeout)
            : queue.Value.IsPubSub ? PubSub(options.Lease, services.GetRequiredService<IOptions<PubSubOptions>>().Value.AckDeadline)
            : null;
        return problem is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problem);
    }

    /// <summary>The problem in one sentence naming the settings, or null when the timeouts fit.</summary>
    public static string? RabbitMq(TimeSpan conversionTimeout, TimeSpan consumerTimeout) =>
        conversionTimeout + Margin < consumerTimeout
            ? null
            : $"Media:ConversionTimeoutSeconds ({conversionTimeout.TotalSeconds:0}) plus {Margin.TotalSeconds:0} s must be shorter than the broker's consumer timeout, " +
              $"Queue:RabbitMq:ConsumerTimeoutSeconds ({consumerTimeout.TotalSeconds:0}); raise consumer_timeout in rabbitmq.conf (milliseconds) and set ConsumerTimeoutSeconds to it, or lower the conversion timeout.";

    /// <summary>The lease renewer extends the ack deadline every lease / 3; the deadline must outlast that period with room for one slow call.</summary>
    public static string? PubSub(TimeSpan lease, TimeSpan ackDeadline)
    {
        var renewal = TimeSpan.FromSeconds(Math.Max(1, lease.TotalSeconds / 3));
        return renewal + TimeSpan.FromSeconds(10) <= ackDeadline
            ? null
            : $"Queue:PubSub:AckDeadlineSeconds ({ackDeadline.TotalSeconds:0}) must be at least 10 s longer than the lease renewal period, Worker:LeaseSeconds / 3 ({renewal.TotalSeconds:0.#} s), " +
              "or a running conversion's message is delivered again; raise AckDeadlineSeconds or lower LeaseSeconds.";
    }
}
