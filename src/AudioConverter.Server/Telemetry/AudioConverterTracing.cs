using System.Diagnostics;
using AudioConverter.Core.Queue;

namespace AudioConverter.Server.Telemetry;

/// <summary>The service's own spans, on the ActivitySource "AudioConverter".</summary>
public static class AudioConverterTracing
{
    public const string SourceName = "AudioConverter";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// The worker's span for one delivery: a consumer span whose parent is the upload request that published the
    /// message (the traceparent it carried), so one trace runs from the upload through the queue to the outcome.
    /// </summary>
    public static Activity? StartProcessing(IQueueDelivery delivery)
    {
        ActivityContext.TryParse(delivery.TraceParent, null, out var parent);
        var activity = Source.StartActivity("task process", ActivityKind.Consumer, parent);
        activity?.SetTag("audioconverter.task.id", delivery.TaskId);
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("audioconverter.delivery.count", delivery.DeliveryCount);
        return activity;
    }

    /// <summary>A child span of the current one (convert, store, write outcome).</summary>
    public static Activity? Start(string name) => Source.StartActivity(name, ActivityKind.Internal);
}
