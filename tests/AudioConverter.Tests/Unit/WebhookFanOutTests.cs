using AudioConverter.Core.Notifications;
using AudioConverter.Core.Tasks;
using AudioConverter.Server.Notifications;

namespace AudioConverter.Tests.Unit;

/// <summary>Which endpoints an event is fanned out to (<see cref="OutboxDispatcher.Hears"/>).</summary>
[Trait("Layer", "Unit")]
public sealed class WebhookFanOutTests
{
    private static TaskEvent Event(long taskId, int version, string type = TaskEventTypes.Processed) =>
        new() { TaskId = taskId, UserId = 1, Type = type, Version = version };

    private static WebhookEndpoint Endpoint(long? taskId, int fromVersion = 0, string events = "task.processed,task.failed", long userId = 1) =>
        new() { UserId = userId, TaskId = taskId, FromVersion = fromVersion, Url = "https://example.org/hook", Events = events, Secret = "whsec_x" };

    [Fact]
    public void ATasksOwnEndpointGivenByAPutDoesNotHearTheEarlierVersionsOutcome()
    {
        var givenForVersion2 = Endpoint(taskId: 7, fromVersion: 2);

        Assert.False(OutboxDispatcher.Hears(givenForVersion2, Event(7, version: 1)));
        Assert.True(OutboxDispatcher.Hears(givenForVersion2, Event(7, version: 2)));
        Assert.True(OutboxDispatcher.Hears(givenForVersion2, Event(7, version: 3)));
    }

    [Fact]
    public void ATaskOwnEndpointHearsOnlyItsTaskAndAnAccountEndpointHearsEveryTask()
    {
        Assert.False(OutboxDispatcher.Hears(Endpoint(taskId: 7, fromVersion: 1), Event(8, version: 1)));
        Assert.True(OutboxDispatcher.Hears(Endpoint(taskId: null), Event(8, version: 1)));
        Assert.True(OutboxDispatcher.Hears(Endpoint(taskId: null), Event(9, version: 5)));
    }

    [Fact]
    public void AnEndpointHearsOnlyItsOwnUserAndTheTypesItAskedFor()
    {
        Assert.False(OutboxDispatcher.Hears(Endpoint(taskId: null, userId: 2), Event(8, version: 1)));
        Assert.False(OutboxDispatcher.Hears(Endpoint(taskId: null, events: "task.failed"), Event(8, version: 1)));
        Assert.True(OutboxDispatcher.Hears(Endpoint(taskId: null, events: "task.failed"), Event(8, version: 1, TaskEventTypes.Failed)));
    }
}
