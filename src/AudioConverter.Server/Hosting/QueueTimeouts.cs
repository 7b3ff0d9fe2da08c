using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Server.Worker;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Hosting;

/// <summary>
/// Checks, before a worker starts, that the broker will not take a message away from a conversion that is still
/// allowed to run: RabbitMQ closes the channel of a consumer that holds a message past its consumer_timeout, and
/// Pub/Sub redelivers a message whose ack deadline passes before the lease renewer extends it. A rule of the
/// worker role's settings, checked at start with the others: the conversion timeout against RabbitMQ's consumer
/// timeout, Pub/Sub's ack deadline against the worker's lease. (Not a rule of WorkerOptions: the broker's prefetch is
/// derived from those, and the check would go round in a circle.)
/// </summary>
public sealed class QueueTimeouts(IOptions<QueueOptions> queue, IServiceProvider services) : IValidateOptions<MediaOptions>, IValidateOptions<PubSubOptions>
{
    /// <summary>Time a task needs besides ffmpeg itself: download, probe, upload, recording the outcome.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(60);

    public ValidateOptionsResult Validate(string? name, MediaOptions options) =>
        Result(queue.Value.IsRabbitMq ? RabbitMq(options.ConversionTimeout, services.GetRequiredService<IOptions<RabbitMqOptions>>().Value.ConsumerTimeout) : null);

    public ValidateOptionsResult Validate(string? name, PubSubOptions options) =>
        Result(PubSub(services.GetRequiredService<IOptions<WorkerOptions>>().Value.Lease, options.AckDeadline));

    private static ValidateOptionsResult Result(string? problem) => problem is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problem);

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
