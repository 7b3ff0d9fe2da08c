using System.Net;
using System.Text.Json;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Events;

/// <summary>GET /api/events through the real pipeline: the caller's events only, resumable, bounded.</summary>
public sealed class EventStreamTests : IDisposable
{
    private readonly AppFactory factory = KestrelApp.Start(new Dictionary<string, string?>
    {
        ["Events:PollIntervalMilliseconds"] = "50",
        ["Events:HeartbeatSeconds"] = "0.5",
        ["Events:MaxStreamsPerUser"] = "2",
    });

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task AStreamCarriesTheCallersEventsInOrderWithIdsTypesAndTheTaskAsData()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var userId = await FeedRows.UserIdAsync(client);
        await using var stream = await SseStream.OpenAsync(client);

        var created = await FeedRows.AppendAsync(factory.Services, userId, 41, TaskEventTypes.Created);
        var progress = await FeedRows.AppendAsync(factory.Services, userId, 41, TaskEventTypes.Progress, new { id = 41, status = "processing", progress = 50 });
        var processed = await FeedRows.AppendAsync(factory.Services, userId, 41, TaskEventTypes.Processed);

        foreach (var expected in new[] { created, progress, processed })
        {
            var message = await stream.NextAsync();
            Assert.Equal(expected.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), message.Id);
            Assert.Equal(expected.Type, message.Event);
            Assert.Equal(expected.Data, message.Data);
        }

        Assert.Equal(50, JsonDocument.Parse((await ReadDataAsync(progress.Id))!).RootElement.GetProperty("progress").GetInt32());
    }

    [Fact]
    public async Task AnotherUsersStreamSeesNothingOfThisUsersEventsAndIdleStreamsGetHeartbeats()
    {
        var owner = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var stranger = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var ownerId = await FeedRows.UserIdAsync(owner);
        var strangerId = await FeedRows.UserIdAsync(stranger);
        await using var ownerStream = await SseStream.OpenAsync(owner);
        await using var strangerStream = await SseStream.OpenAsync(stranger);

        await FeedRows.AppendAsync(factory.Services, ownerId, 7, TaskEventTypes.Created);
        await FeedRows.AppendAsync(factory.Services, ownerId, 7, TaskEventTypes.Processed);
        var marker = await FeedRows.AppendAsync(factory.Services, strangerId, 8, TaskEventTypes.Created);

        // The feed hands events out in id order: once the stranger has its own later event, the owner's were already past.
        Assert.Equal(TaskEventTypes.Created, (await ownerStream.NextAsync()).Event);
        Assert.Equal(TaskEventTypes.Processed, (await ownerStream.NextAsync()).Event);
        var strangers = await strangerStream.NextAsync();
        Assert.Equal(marker.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), strangers.Id);
        Assert.False(strangerStream.TryTake(out _));

        // A resume from before the owner's events, with the stranger's token, still shows only the stranger's.
        await using var strangerResume = await SseStream.OpenAsync(stranger, "0");
        Assert.Equal(marker.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), (await strangerResume.NextAsync()).Id);
        await Faults.Deadline.UntilAsync(() => strangerResume.Heartbeats >= 2, TimeSpan.FromSeconds(10), "two heartbeats on an idle stream");
        Assert.False(strangerResume.TryTake(out _));
    }

    [Fact]
    public async Task AStreamOverTheUsersLimitIsRefusedWith429AndClosingOneMakesRoom()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var first = await SseStream.OpenAsync(client);
        await using var second = await SseStream.OpenAsync(client);

        using var third = await SseStream.OpenRawAsync(client);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        var problem = await third.ProblemAsync();
        Assert.Contains("already has 2 event streams open", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(third.Headers.RetryAfter);

        // Another user is not affected by this one's streams.
        var other = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        await using var others = await SseStream.OpenAsync(other);

        await first.DisposeAsync();
        await Faults.Deadline.UntilAsync(async () =>
        {
            using var retry = await SseStream.OpenRawAsync(client);
            return retry.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(10), "a stream slot freed by closing one");
    }

    [Fact]
    public async Task AReconnectWithLastEventIdResumesWithoutAGap()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var userId = await FeedRows.UserIdAsync(client);
        var stream = await SseStream.OpenAsync(client);
        var first = await FeedRows.AppendAsync(factory.Services, userId, 1, TaskEventTypes.Created);
        Assert.Equal(first.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), (await stream.NextAsync()).Id);
        await stream.DisposeAsync();

        // While disconnected: events of this user and of another.
        var missed = new List<long>();
        for (var i = 0; i < 30; i++)
        {
            missed.Add((await FeedRows.AppendAsync(factory.Services, userId, 1, TaskEventTypes.Progress)).Id);
            await FeedRows.AppendAsync(factory.Services, userId + 1000, 2, TaskEventTypes.Progress);
        }

        await using var resumed = await SseStream.OpenAsync(client, first.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var later = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            later.Add((await FeedRows.AppendAsync(factory.Services, userId, 1, TaskEventTypes.Progress)).Id);
        }

        var received = new List<long>();
        while (received.Count < missed.Count + later.Count)
        {
            received.Add(long.Parse((await resumed.NextAsync()).Id!, System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal([.. missed, .. later], received);
    }

    [Theory]
    [InlineData("garbage", "is not an event id")]
    [InlineData("-1", "is not an event id")]
    [InlineData("99999999999", "is newer than any event")]
    [InlineData("1e3", "is not an event id")]
    public async Task AMalformedOrFutureLastEventIdIsA400SayingWhat(string lastEventId, string expected)
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        using var response = await SseStream.OpenRawAsync(client, lastEventId);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALastEventIdOlderThanTheRetainedEventsStartsWithAResetEvent()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var userId = await FeedRows.UserIdAsync(client);
        var old = await FeedRows.AppendAsync(factory.Services, userId, 3, TaskEventTypes.Created);
        var pruned = await FeedRows.AppendAsync(factory.Services, userId, 3, TaskEventTypes.Progress);
        await FeedRows.AppendAsync(factory.Services, userId, 3, TaskEventTypes.Processed);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await db.TaskEvents.Where(e => e.Id <= pruned.Id).ExecuteDeleteAsync();
        }

        await using var stream = await SseStream.OpenAsync(client, old.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var reset = await stream.NextAsync();

        Assert.Equal("reset", reset.Event);
        Assert.Contains("retention window", reset.Data, StringComparison.Ordinal);
        Assert.Null(reset.Id);
    }

    [Fact]
    public async Task WithoutATokenTheStreamIs401()
    {
        using var response = await SseStream.OpenRawAsync(factory.CreateClient());
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<string?> ReadDataAsync(long id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AppDbContext>().TaskEvents.Where(e => e.Id == id).Select(e => e.Data).FirstAsync();
    }
}
