using AudioConverter.Infrastructure.Queue;
using AudioConverter.Tests.Contracts;
using AudioConverter.Tests.Fixtures;
using AudioConverter.Tests.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AudioConverter.Tests.Faults;

/// <summary>A database outage under a RabbitMQ worker: the waiting messages must not walk into the dead-letter queue.</summary>
public sealed class DatabaseOutageQueueTests
{
    [Fact]
    public async Task MessagesWaitingThroughADatabaseOutageAreNotDeadLettered()
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        var rabbit = ExternalServices.Rabbit(ExternalServices.UniqueName("ac-outage"));

        // A delivery limit of 1: under the old immediate nack, any message handed back twice was dead-lettered.
        rabbit.DeliveryLimit = 1;
        using var factory = new AppFactory(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["Database:ConnectionString"] = postgres.ConnectionString("ac_outage"),
            ["Queue:Provider"] = "RabbitMq",
            ["Queue:RabbitMq:Uri"] = rabbit.Uri,
            ["Queue:RabbitMq:QueueName"] = rabbit.QueueName,
            ["Queue:RabbitMq:DeliveryLimit"] = "1",
            ["Worker:Concurrency"] = "1",
        });
        var capture = new LogCapture();
        using var logged = factory.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(capture)));
        using var client = logged.CreateClient();
        await Deadline.UntilAsync(async () => (await client.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the app to be ready");

        await using var queue = new RabbitMqTaskQueue(rabbit, 1, NullLogger<RabbitMqTaskQueue>.Instance);
        await postgres.StopAsync();
        foreach (var id in new long[] { 900_001, 900_002, 900_003 })
        {
            await queue.PublishAsync(id, default);
        }

        // Four claims failed over three messages: at least one was handed back twice.
        int ClaimFailures() => capture.Lines.Count(l => l.Contains("Could not claim task", StringComparison.Ordinal));
        await Deadline.UntilAsync(() => ClaimFailures() >= 4, TimeSpan.FromSeconds(90), "four failed claims");
        Assert.Equal(0u, (await queue.CountAsync(default)).Dead);

        // The database returns: every message is taken (no such task, so acked) and none was lost to the dead letters.
        await postgres.StartAgainAsync();
        await Deadline.UntilAsync(async () => await queue.CountAsync(default) == (0u, 0u) && (await client.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(90), "the queue to drain");
        Assert.Equal(0u, (await queue.CountAsync(default)).Dead);
    }
}
