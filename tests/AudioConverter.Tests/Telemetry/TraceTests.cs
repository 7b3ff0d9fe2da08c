using AudioConverter.Tests.Contracts;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Telemetry;

/// <summary>
/// One trace across processes: an API process and a worker process (PostgreSQL, a real broker, a shared folder) both
/// export spans over OTLP/HTTP to an in-test receiver. The worker's span must be a child of the upload request's span,
/// which only happens if the trace context travelled inside the queue message; the worker's log lines name the trace.
/// </summary>
public sealed class TraceTests
{
    [Theory]
    [InlineData("RabbitMq")]
    [InlineData("PubSub")]
    public async Task OneTraceRunsFromTheUploadThroughTheQueueToTheWorkersOutcome(string queue)
    {
        var name = ExternalServices.UniqueName("trace");
        var database = name.Replace('-', '_');
        var connectionString = await ExternalServices.CreatePostgresDatabaseAsync(database);
        var blobs = Path.Combine(Path.GetTempPath(), "ac-tests", name);
        await using var receiver = await OtlpReceiver.StartAsync();
        var shared = new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["Database__ConnectionString"] = connectionString,
            ["Storage__LocalPath"] = blobs,
            ["Auth__SigningKey"] = "trace-test-signing-key-" + Guid.NewGuid().ToString("N"),
            ["Telemetry__OtlpEndpoint"] = receiver.Endpoint.ToString(),
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };
        if (queue == "RabbitMq")
        {
            shared["Queue__Provider"] = "RabbitMq";
            shared["Queue__RabbitMq__Uri"] = ExternalServices.RabbitMq;
            shared["Queue__RabbitMq__QueueName"] = name;
        }
        else
        {
            shared["Queue__Provider"] = "PubSub";
            shared["Queue__PubSub__EmulatorHost"] = ExternalServices.PubSubEmulator;
            shared["Queue__PubSub__ProjectId"] = "audioconverter-trace";
            shared["Queue__PubSub__Topic"] = name;
            shared["Queue__PubSub__Subscription"] = name + "-workers";
            shared["Queue__PubSub__CreateResources"] = "true";
        }

        try
        {
            await using var api = ServerProcess.Start("api", "api", new Dictionary<string, string>(shared) { ["Telemetry__ServiceName"] = "ac-api" });
            await api.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            await using var worker = ServerProcess.Start("worker", "worker", new Dictionary<string, string>(shared) { ["Telemetry__ServiceName"] = "ac-worker", ["Database__MigrateOnStart"] = "false" });
            await worker.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

            using var anonymous = api.CreateClient();
            var client = await anonymous.NewUserAsync(api.CreateClient);
            var task = await client.UploadOkAsync(AudioSamples.Get("mp3", 2), "song.mp3", "ogg");
            Assert.Equal("processed", (await client.WaitForTaskAsync(task.Id)).Status);

            ReceivedSpan? upload = null;
            ReceivedSpan? processing = null;
            await Deadline.UntilAsync(
                () =>
                {
                    var spans = receiver.Spans;
                    upload = spans.SingleOrDefault(s => s is { Service: "ac-api", Name: "POST /api/tasks/" });
                    processing = spans.SingleOrDefault(s => s.Service == "ac-worker" && s.Name == "task process" && s.Attributes.GetValueOrDefault("audioconverter.task.id") == task.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    return upload is not null && processing is not null;
                },
                TimeSpan.FromSeconds(30),
                "the upload's span from the API and the conversion's span from the worker");

            // Same trace, and the worker's span hangs directly under the upload request that published the message.
            Assert.Equal(upload!.TraceId, processing!.TraceId);
            Assert.Equal(upload.SpanId, processing.ParentSpanId);
            Assert.Equal(32, upload.TraceId.Length);
            Assert.Equal(5, processing.Kind); // SPAN_KIND_CONSUMER
            Assert.Equal("processed", processing.Attributes.GetValueOrDefault("audioconverter.outcome"));

            // The worker's log lines for the task carry the same trace id.
            Assert.Contains(worker.Lines, l => l.Contains($"TraceId:{upload.TraceId}", StringComparison.Ordinal) && l.Contains($"Processed task {task.Id}", StringComparison.Ordinal));
        }
        finally
        {
            await ExternalServices.DropPostgresDatabaseAsync(database);
            if (Directory.Exists(blobs))
            {
                Directory.Delete(blobs, recursive: true);
            }
        }
    }
}
