using AudioConverter.Core.Queue;
using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Tests.Faults;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace AudioConverter.Tests.Contracts;

/// <summary>The RabbitMQ adapter against a real broker, one queue per test.</summary>
public sealed class RabbitMqTaskQueueTests : TaskQueueContract
{
    private readonly string queueName = ExternalServices.UniqueName("ac-test");

    protected override async Task<ITaskQueue> ConnectAsync()
    {
        var queue = new RabbitMqTaskQueue(ExternalServices.Rabbit(queueName), 2, NullLogger<RabbitMqTaskQueue>.Instance);
        await queue.SetUpAsync(default);
        return queue;
    }

    [Fact]
    public async Task NackWithoutRequeueMovesTheMessageToTheDeadLetterQueue()
    {
        var queue = (RabbitMqTaskQueue)await NewClientAsync();
        await queue.PublishAsync(13, default);
        var delivery = await ReceiveAsync(queue);
        await delivery.NackAsync(requeue: false, default);
        await WaitForAsync(async () => (await queue.CountAsync(default)).Dead == 1);
        Assert.Equal((0u, 1u), await queue.CountAsync(default));
    }

    [Fact]
    public async Task MessageWhoseWorkersKeepDyingIsDeadLetteredAfterTheDeliveryLimit()
    {
        var publisher = (RabbitMqTaskQueue)await NewClientAsync();
        await publisher.PublishAsync(21, default);

        // DeliveryLimit is 3 in the tests: a consumer that goes away without settling counts; the fourth loss moves the message aside.
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            var worker = await NewClientAsync();
            var delivery = await ReceiveAsync(worker);
            Assert.Equal(attempt, delivery.DeliveryCount);
            await CloseAsync(worker);
        }

        await WaitForAsync(async () => (await publisher.CountAsync(default)).Dead == 1);
    }

    [Fact]
    public async Task HandingAMessageBackMoreOftenThanTheDeliveryLimitNeverDeadLettersIt()
    {
        // What a worker does through a database outage: every hand-back must leave the message in the queue.
        var queue = (RabbitMqTaskQueue)await NewClientAsync();
        await queue.PublishAsync(22, default);
        for (var attempt = 1; attempt <= 6; attempt++)
        {
            var delivery = await ReceiveAsync(queue);
            Assert.Equal(22, delivery.TaskId);
            await delivery.NackAsync(requeue: true, default);
        }

        var last = await ReceiveAsync(queue);
        Assert.Equal(22, last.TaskId);
        await last.AckAsync(default);
        Assert.Equal(0u, (await queue.CountAsync(default)).Dead);
    }

    [Fact]
    public async Task TheDeadLetterQueueIsBoundedAndDrainedToTaskIds()
    {
        var options = ExternalServices.Rabbit(queueName);
        options.DeadLetterMaxLength = 2;
        await using var queue = new RabbitMqTaskQueue(options, 4, NullLogger<RabbitMqTaskQueue>.Instance);
        await queue.SetUpAsync(default);
        for (var id = 1; id <= 4; id++)
        {
            await queue.PublishAsync(id, default);
            var delivery = await ReceiveAsync(queue);
            await delivery.NackAsync(requeue: false, default);
        }

        // The oldest are dropped beyond the bound; the rows stay the truth, so nothing is lost by that.
        await WaitForAsync(async () => (await queue.CountAsync(default)).Dead == 2);
        Assert.Equal([3L, 4L], await queue.DrainDeadLettersAsync(100, default));
        Assert.Equal((0u, 0u), await queue.CountAsync(default));
        Assert.Empty(await queue.DrainDeadLettersAsync(100, default));
    }

    [Fact]
    public async Task ConsumerComesBackAfterItsQueueIsDeletedAndReadinessIsRedUntilThen()
    {
        var worker = (RabbitMqTaskQueue)await NewClientAsync();
        var receiving = worker.ReceiveAsync(default);
        await WaitForAsync(() => Task.FromResult(worker.IsConsuming));
        Assert.True(await worker.IsReadyAsync(default));

        // Someone deletes the queue and declares a classic queue of the same name: the broker cancels the consumer, and
        // declaring the quorum queue again fails with PRECONDITION_FAILED until the impostor is gone.
        var factory = new ConnectionFactory { Uri = new Uri(ExternalServices.RabbitMq) };
        await using var admin = await factory.CreateConnectionAsync();
        await WaitForAsync(async () =>
        {
            await using var channel = await admin.CreateChannelAsync();
            await channel.QueueDeleteAsync(queueName);
            try
            {
                await channel.QueueDeclareAsync(queueName, durable: false, exclusive: false, autoDelete: false);
                return true;
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
                return false;
            }
        });
        await WaitForAsync(async () => !await worker.IsReadyAsync(default));
        Assert.False(receiving.IsCompleted);

        await using (var channel = await admin.CreateChannelAsync())
        {
            await channel.QueueDeleteAsync(queueName);
        }

        await WaitForAsync(() => worker.IsReadyAsync(default));
        var publisher = await NewClientAsync();
        await publisher.PublishAsync(99, default);
        var delivery = await receiving.WaitAsync(Patience);
        Assert.Equal(99, delivery.TaskId);
        await delivery.AckAsync(default);
    }

    [Fact]
    public async Task ConsumerComesBackAfterTheBrokerRestartsAndReadinessIsRedWhileItIsDown()
    {
        await using var broker = await PrivateRabbitMq.StartAsync();
        var options = ExternalServices.Rabbit(queueName);
        options.Uri = broker.Uri;
        await using var worker = new RabbitMqTaskQueue(options, 2, NullLogger<RabbitMqTaskQueue>.Instance);
        await worker.SetUpAsync(default);
        var receiving = worker.ReceiveAsync(default);
        await WaitForAsync(() => Task.FromResult(worker.IsConsuming));

        await broker.StopAsync();
        await WaitForAsync(async () => !await worker.IsReadyAsync(default));
        await broker.StartAgainAsync();

        await Deadline.UntilAsync(() => Task.FromResult(worker.IsConsuming), TimeSpan.FromSeconds(60), "the consumer to come back");
        Assert.True(await worker.IsReadyAsync(default));
        await using var publisher = new RabbitMqTaskQueue(options, 1, NullLogger<RabbitMqTaskQueue>.Instance);
        await publisher.PublishAsync(7, default);
        var delivery = await receiving.WaitAsync(Patience);
        Assert.Equal(7, delivery.TaskId);
        await delivery.AckAsync(default);
    }

    [Fact]
    public async Task PublishingToAnUnreachableBrokerThrows()
    {
        var options = ExternalServices.Rabbit(queueName);
        options.Uri = "amqp://guest:guest@127.0.0.1:9/";
        await using var queue = new RabbitMqTaskQueue(options, 1, NullLogger<RabbitMqTaskQueue>.Instance);
        // Nothing listens on port 9: the adapter reports the port's exception (not a time-out, not a cancellation), the client's inside.
        var error = await Assert.ThrowsAsync<AudioConverter.Infrastructure.BackendUnreachableException>(() => queue.PublishAsync(1, default));
        Assert.IsType<BrokerUnreachableException>(error.InnerException);
        Assert.Contains("Queue:RabbitMq:Uri", error.Message, StringComparison.Ordinal);
        Assert.False(await queue.IsReadyAsync(default));
    }

    [Fact]
    public async Task WrongCredentialsAreReportedByTheStartUpCheck()
    {
        var options = ExternalServices.Rabbit(queueName);
        options.Uri = new UriBuilder(options.Uri) { UserName = "nobody", Password = "wrong" }.Uri.ToString();
        await using var queue = new RabbitMqTaskQueue(options, 1, NullLogger<RabbitMqTaskQueue>.Instance);
        var error = await Assert.ThrowsAsync<BrokerUnreachableException>(() => queue.SetUpAsync(default));
        Assert.IsType<AuthenticationFailureException>(error.InnerException);
        Assert.False(await queue.IsReadyAsync(default));
    }

    private static Task WaitForAsync(Func<Task<bool>> condition) => Deadline.UntilAsync(condition, Patience, "the broker to reach the expected state");
}
