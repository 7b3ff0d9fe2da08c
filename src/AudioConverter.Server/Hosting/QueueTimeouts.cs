using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Server.Worker;

namespace AudioConverter.Server.Hosting;

/// <summary>
/// Checks, before a worker starts, that the broker will not take a message away from a conversion that is still
/// allowed to run: RabbitMQ closes the channel of a consumer that holds a message past its consumer_timeout, and
/// Pub/Sub redelivers a message whose ack deadline passes before the lease renewer extends it.
/// </summary>
public static class QueueTimeouts
{
    /// <summary>Time a task needs besides ffmpeg itself: download, probe, upload, recording the outcome.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(60);

    /// <summary>The problem in one sentence naming the settings, or null when the timeouts fit.</summary>
    public static string? Problem(IConfiguration configuration)
    {
        var media = configuration.GetSection(MediaOptions.Section).Get<MediaOptions>() ?? new MediaOptions();
        var worker = configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();
        var provider = configuration.GetSection(QueueOptions.Section).Get<QueueOptions>()?.Provider ?? "InProcess";
        if (provider.Equals("RabbitMq", StringComparison.OrdinalIgnoreCase))
        {
            var rabbit = configuration.GetSection(RabbitMqOptions.Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();
            return RabbitMq(media.ConversionTimeoutSeconds, rabbit.ConsumerTimeoutSeconds);
        }

        if (provider.Equals("PubSub", StringComparison.OrdinalIgnoreCase))
        {
            var pubsub = configuration.GetSection(PubSubOptions.Section).Get<PubSubOptions>() ?? new PubSubOptions();
            return PubSub(worker.LeaseSeconds, pubsub.AckDeadlineSeconds);
        }

        return null;
    }

    public static string? RabbitMq(int conversionTimeoutSeconds, int consumerTimeoutSeconds) =>
        conversionTimeoutSeconds + Margin.TotalSeconds < consumerTimeoutSeconds
            ? null
            : $"Media:ConversionTimeoutSeconds ({conversionTimeoutSeconds}) plus {Margin.TotalSeconds:0} s must be shorter than the broker's consumer timeout, " +
              $"Queue:RabbitMq:ConsumerTimeoutSeconds ({consumerTimeoutSeconds}); raise consumer_timeout in rabbitmq.conf (milliseconds) and set ConsumerTimeoutSeconds to it, or lower the conversion timeout.";

    /// <summary>The lease renewer extends the ack deadline every LeaseSeconds / 3; the deadline must outlast that period with room for one slow call.</summary>
    public static string? PubSub(int leaseSeconds, int ackDeadlineSeconds)
    {
        var renewal = Math.Max(1, leaseSeconds / 3.0);
        return renewal + 10 <= ackDeadlineSeconds
            ? null
            : $"Queue:PubSub:AckDeadlineSeconds ({ackDeadlineSeconds}) must be at least 10 s longer than the lease renewal period, Worker:LeaseSeconds / 3 ({renewal:0.#} s), " +
              "or a running conversion's message is delivered again; raise AckDeadlineSeconds or lower LeaseSeconds.";
    }
}
