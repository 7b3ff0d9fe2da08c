using System.Text.Json;
using AudioConverter.Core.Queue;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Server.Worker;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AudioConverter.Tests.Lifecycle;

/// <summary>A task's transitions on a real database: each one wins or loses as a whole, with its event, on the fake clock.</summary>
public abstract class TaskTransitionsContract : IAsyncLifetime
{
    private static readonly ClaimRules Rules = new(LeaseSeconds: 30, MaxAttempts: 3, MaxProcessingPerUser: 0);

    protected abstract string Provider { get; }

    protected LifecycleHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync() => Harness = await LifecycleHarness.StartAsync(Provider);

    public async Task DisposeAsync() => await Harness.DisposeAsync();

    private Task<ClaimResult> ClaimAsync(long id, string owner, ClaimRules? rules = null) =>
        Harness.WithDbAsync((_, t) => t.ClaimAsync(id, owner, rules ?? Rules, default));

    [Fact]
    public async Task TheUploadInsertIsOwedAPublishAndWritesACreatedEventWithTheTaskInTheApiShape()
    {
        var user = await Harness.AddUserAsync("creator");
        var task = await Harness.UploadAsync(user, [1, 2, 3]);

        var row = await Harness.RowAsync(task.Id);
        Assert.Equal(ConversionStatus.Uploaded, row.Status);
        Assert.Null(row.PublishedAt);
        var created = Assert.Single(await Harness.EventsAsync(task.Id));
        Assert.Equal(TaskEventTypes.Created, created.Type);
        Assert.Equal(user, created.UserId);
        using var json = JsonDocument.Parse(created.Data!);
        Assert.Equal(task.Id, json.RootElement.GetProperty("id").GetInt64());
        Assert.Equal("uploaded", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("ogg", json.RootElement.GetProperty("newFormat").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("inputBytes").GetInt64());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("convertedUrl").ValueKind);
    }

    [Fact]
    public async Task AClaimTakesALeaseOnTheClockAndANewFenceAndASecondClaimLoses()
    {
        var user = await Harness.AddUserAsync("claimer");
        var task = await Harness.UploadAsync(user, [1]);

        var first = await ClaimAsync(task.Id, "a");
        var second = await ClaimAsync(task.Id, "b");

        Assert.Equal(ClaimOutcome.Claimed, first.Outcome);
        Assert.Equal(1, first.Task!.Fence);
        Assert.Equal(Harness.Clock.GetUtcNow().UtcDateTime.AddSeconds(30), first.Task.LeaseExpiresAt!.Value, TimeSpan.FromMilliseconds(1));
        Assert.Equal(ClaimOutcome.NotClaimable, second.Outcome);
        Assert.Equal([TaskEventTypes.Created, TaskEventTypes.Progress], (await Harness.EventsAsync(task.Id)).Select(e => e.Type));
    }

    [Fact]
    public async Task AStaleWorkerWhoseLeaseWasTakenCanNeitherRenewNorFinishNorOverwriteTheWinnersOutputKey()
    {
        var user = await Harness.AddUserAsync("stale");
        var task = await Harness.UploadAsync(user, [1]);
        var stale = (await ClaimAsync(task.Id, "stale")).Task!;

        Harness.Clock.Advance(TimeSpan.FromSeconds(31));
        var winner = (await ClaimAsync(task.Id, "winner")).Task!;
        var ogg = AudioFormat.Find("ogg")!;

        Assert.NotEqual(stale.OutputKeyFor(ogg), winner.OutputKeyFor(ogg));
        Assert.False(await Harness.WithDbAsync((_, t) => t.RenewAsync(task.Id, stale.Fence, 30, default)));
        Assert.False(await Harness.WithDbAsync((_, t) => t.FinishAsync(task.Id, stale.Fence, stale.OutputKeyFor(ogg), 10, 1, null, default)));
        Assert.True(await Harness.WithDbAsync((_, t) => t.FinishAsync(task.Id, winner.Fence, winner.OutputKeyFor(ogg), 20, 1, null, default)));

        var row = await Harness.RowAsync(task.Id);
        Assert.Equal(ConversionStatus.Processed, row.Status);
        Assert.Equal(winner.OutputKeyFor(ogg), row.OutputKey);
        Assert.Equal($"converted/{task.Id}-v1-f2.ogg", row.OutputKey);
        Assert.Equal(20, row.OutputBytes);
        Assert.Single(await Harness.EventsAsync(task.Id), e => e.Type == TaskEventTypes.Processed);
    }

    [Fact]
    public async Task ARenewalAfterTheClaimsOwnFinishFindsNoRowButTheOutcomeRecordedWhileAStaleClaimsWasNot()
    {
        var user = await Harness.AddUserAsync("renew-race");
        var task = await Harness.UploadAsync(user, [1]);
        var stale = (await ClaimAsync(task.Id, "stale")).Task!;
        Harness.Clock.Advance(TimeSpan.FromSeconds(31));
        var winner = (await ClaimAsync(task.Id, "winner")).Task!;
        Assert.True(await Harness.WithDbAsync((_, t) => t.FinishAsync(task.Id, winner.Fence, winner.OutputKeyFor(AudioFormat.Find("ogg")!), 20, 1, null, default)));

        // The winner's renewal raced its own finish: no row to renew, and that is not a lost lease. The stale claim's is.
        Assert.False(await Harness.WithDbAsync((_, t) => t.RenewAsync(task.Id, winner.Fence, 30, default)));
        Assert.True(await Harness.WithDbAsync((_, t) => t.OutcomeRecordedAsync(task.Id, winner.Fence, default)));
        Assert.False(await Harness.WithDbAsync((_, t) => t.OutcomeRecordedAsync(task.Id, stale.Fence, default)));
    }

    [Fact]
    public async Task AnExpiredLeaseAtTheAttemptLimitIsNotClaimedAndTheSweeperFailsItWithProcessedAtAndAFailedEvent()
    {
        var user = await Harness.AddUserAsync("killer");
        var task = await Harness.UploadAsync(user, [1]);
        for (var attempt = 1; attempt <= Rules.MaxAttempts; attempt++)
        {
            Assert.Equal(ClaimOutcome.Claimed, (await ClaimAsync(task.Id, $"worker-{attempt}")).Outcome);
            Harness.Clock.Advance(TimeSpan.FromSeconds(31));
        }

        // The file killed its worker three times: a fourth claim must not loop on it.
        Assert.Equal(ClaimOutcome.NotClaimable, (await ClaimAsync(task.Id, "worker-4")).Outcome);

        var queue = new InProcessTaskQueue();
        var sweeper = ActivatorUtilities.CreateInstance<Sweeper>(Harness.Services, queue);
        await sweeper.SweepAsync(republishAll: false, default);

        var row = await Harness.RowAsync(task.Id);
        Assert.Equal(ConversionStatus.Failed, row.Status);
        Assert.Equal(Harness.Clock.GetUtcNow().UtcDateTime, row.ProcessedAt!.Value, TimeSpan.FromMilliseconds(1));
        Assert.Contains("interrupted 3 times", row.Error, StringComparison.Ordinal);
        Assert.Null(row.LeaseOwner);
        var failed = Assert.Single(await Harness.EventsAsync(task.Id), e => e.Type == TaskEventTypes.Failed);
        Assert.Contains("\"status\":\"failed\"", failed.Data, StringComparison.Ordinal);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task AnExpiredLeaseUnderTheLimitIsReclaimedOwedAPublishAndPublishedOnce()
    {
        var user = await Harness.AddUserAsync("reclaim");
        var task = await Harness.UploadAsync(user, [1]);
        await ClaimAsync(task.Id, "dead");
        Harness.Clock.Advance(TimeSpan.FromSeconds(31));

        var queue = new InProcessTaskQueue();
        var sweeper = ActivatorUtilities.CreateInstance<Sweeper>(Harness.Services, queue);
        Assert.Equal(1, await sweeper.SweepAsync(republishAll: false, default));
        Assert.Equal(0, await sweeper.SweepAsync(republishAll: false, default));

        var row = await Harness.RowAsync(task.Id);
        Assert.Equal(ConversionStatus.Uploaded, row.Status);
        Assert.NotNull(row.PublishedAt);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public async Task FailWritesItsEventOnlyWhenItWins()
    {
        var user = await Harness.AddUserAsync("failer");
        var task = await Harness.UploadAsync(user, [1]);
        var claim = (await ClaimAsync(task.Id, "w")).Task!;

        Assert.False(await Harness.WithDbAsync((_, t) => t.FailAsync(task.Id, claim.Fence + 1, "not mine", default)));
        Assert.True(await Harness.WithDbAsync((_, t) => t.FailAsync(task.Id, claim.Fence, "The file is not audio that can be decoded.", default)));
        Assert.False(await Harness.WithDbAsync((_, t) => t.FailAsync(task.Id, claim.Fence, "twice", default)));

        var failed = Assert.Single(await Harness.EventsAsync(task.Id), e => e.Type == TaskEventTypes.Failed);
        Assert.Contains("not audio that can be decoded", failed.Data, StringComparison.Ordinal);
        Assert.NotNull((await Harness.RowAsync(task.Id)).ProcessedAt);
    }

    [Fact]
    public async Task AReconvertOrDeleteBasedOnARowReadBeforeAFinishLosesSoTheFreshOutputIsNeverOrphaned()
    {
        var user = await Harness.AddUserAsync("race");
        var task = await Harness.UploadAsync(user, [1]);
        var claim = (await ClaimAsync(task.Id, "w")).Task!;
        Assert.True(await Harness.WithDbAsync((_, t) => t.FailAsync(task.Id, claim.Fence, "first try failed", default)));
        var seen = await Harness.RowAsync(task.Id);

        // Between the request's read and its write, the task is converted again and finished with an output.
        Assert.True(await Harness.WithDbAsync((_, t) => t.ReconvertAsync(seen, "ogg", null, default)));
        var second = (await ClaimAsync(task.Id, "w2")).Task!;
        Assert.True(await Harness.WithDbAsync((_, t) => t.FinishAsync(task.Id, second.Fence, second.OutputKeyFor(AudioFormat.Find("ogg")!), 5, 1, null, default)));

        Assert.False(await Harness.WithDbAsync((_, t) => t.ReconvertAsync(seen, "mp3", null, default)));
        Assert.False(await Harness.WithDbAsync((_, t) => t.DeleteAsync(seen, default)));

        var fresh = await Harness.RowAsync(task.Id);
        Assert.Equal(ConversionStatus.Processed, fresh.Status);
        Assert.True(await Harness.WithDbAsync((_, t) => t.DeleteAsync(fresh, default)));
        Assert.Equal(TaskEventTypes.Deleted, (await Harness.EventsAsync(task.Id)).Last().Type);
        Assert.Equal(0, await Harness.WithDbAsync((db, _) => db.Tasks.CountAsync(t => t.Id == task.Id)));
    }

    [Fact]
    public async Task AUserOverItsShareOfTheWorkersIsDeferredWhileAnotherUserWaitsAndNotWhenNobodyDoes()
    {
        var rules = Rules with { MaxProcessingPerUser = 1 };
        var heavy = await Harness.AddUserAsync("heavy");
        var light = await Harness.AddUserAsync("light");
        var first = await Harness.UploadAsync(heavy, [1]);
        var second = await Harness.UploadAsync(heavy, [1]);
        Assert.Equal(ClaimOutcome.Claimed, (await ClaimAsync(first.Id, "w1", rules)).Outcome);

        // Nobody else waits: the heavy user may use a second worker.
        var alone = await ClaimAsync(second.Id, "w2", rules);
        Assert.Equal(ClaimOutcome.Claimed, alone.Outcome);
        Assert.True(await Harness.WithDbAsync((_, t) => t.HandBackAsync(second.Id, alone.Task!.Fence, default)));

        var waiting = await Harness.UploadAsync(light, [1]);
        Assert.Equal(ClaimOutcome.Deferred, (await ClaimAsync(second.Id, "w2", rules)).Outcome);
        Assert.True(await Harness.WithDbAsync((_, t) => t.DeferAsync(second.Id, TimeSpan.FromSeconds(5), default)));
        Assert.Equal(ClaimOutcome.Claimed, (await ClaimAsync(waiting.Id, "w3", rules)).Outcome);

        // Deferred means offered again later: not claimable before the delay, owed a publish.
        var deferred = await Harness.RowAsync(second.Id);
        Assert.Null(deferred.PublishedAt);
        Assert.Equal(Harness.Clock.GetUtcNow().UtcDateTime.AddSeconds(5), deferred.NotBefore!.Value, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task APublishIsMarkedDoneOnlyIfNoClaimCameBetweenSoARetryStaysOwed()
    {
        var user = await Harness.AddUserAsync("publisher");
        var task = await Harness.UploadAsync(user, [1]);

        // A worker takes the message before the publisher marks it, and hits a transient failure.
        var claim = (await ClaimAsync(task.Id, "w")).Task!;
        Assert.True(await Harness.WithDbAsync((_, t) => t.RetryAsync(task.Id, claim.Fence, Harness.Clock.GetUtcNow().UtcDateTime.AddSeconds(2), default)));
        Assert.False(await Harness.WithDbAsync((_, t) => t.PublishedAsync(task.Id, task.Fence, default)));
        Assert.Null((await Harness.RowAsync(task.Id)).PublishedAt);

        Assert.True(await Harness.WithDbAsync((_, t) => t.PublishedAsync(task.Id, claim.Fence, default)));
        Assert.NotNull((await Harness.RowAsync(task.Id)).PublishedAt);
    }

    [Fact]
    public async Task OnAQueueThatDiesWithTheProcessAnUploadIsMarkedPublishedByItsInsertAndTheSweeperSendsItNothingMore()
    {
        var user = await Harness.AddUserAsync("in-process");
        var queue = new InProcessTaskQueue();
        var marks = await Harness.WithDbAsync((_, t) => Task.FromResult(new TaskPublisher(t, queue, NullLogger<TaskPublisher>.Instance).MarksOnInsert));
        Assert.True(marks);
        var task = await Harness.UploadAsync(user, [1], markPublished: marks);

        // One commit: the insert carries the mark the update after the send would have written.
        var row = await Harness.RowAsync(task.Id);
        Assert.Equal(row.CreatedAt, row.PublishedAt);
        Assert.True(await Harness.WithDbAsync((_, t) => new TaskPublisher(t, queue, NullLogger<TaskPublisher>.Instance).PublishCreatedAsync(task.Id, task.Fence, default)));
        Assert.Equal(1, queue.Count);
        Assert.Equal(row.PublishedAt, (await Harness.RowAsync(task.Id)).PublishedAt);

        // Past the wait for a request's own publish, the sweeper still has nothing to send; a restart sends it again.
        Harness.Clock.Advance(TaskPublisher.RequestsOwnPublish + TimeSpan.FromSeconds(1));
        var sweeper = ActivatorUtilities.CreateInstance<Sweeper>(Harness.Services, queue);
        Assert.Equal(0, await sweeper.SweepAsync(republishAll: false, default));
        Assert.Equal(1, await sweeper.SweepAsync(republishAll: true, default));
    }

    [Fact]
    public async Task OnAQueueThatDiesWithTheProcessAnUploadWhoseSendFailsIsOwedAgainAndTheSweeperSendsIt()
    {
        var user = await Harness.AddUserAsync("send-fails");
        var task = await Harness.UploadAsync(user, [1], markPublished: true);

        var sent = await Harness.WithDbAsync((_, t) => new TaskPublisher(t, new RefusingQueue(), NullLogger<TaskPublisher>.Instance).PublishCreatedAsync(task.Id, task.Fence, default));

        Assert.False(sent);
        Assert.Null((await Harness.RowAsync(task.Id)).PublishedAt);
        Harness.Clock.Advance(TaskPublisher.RequestsOwnPublish + TimeSpan.FromSeconds(1));
        var queue = new InProcessTaskQueue();
        Assert.Equal(1, await ActivatorUtilities.CreateInstance<Sweeper>(Harness.Services, queue).SweepAsync(republishAll: false, default));
        Assert.Equal(1, queue.Count);
        Assert.NotNull((await Harness.RowAsync(task.Id)).PublishedAt);
    }

    [Fact]
    public async Task TheSystemsFailureGivesItsAttemptBackAndCountsARetryWhichAReconversionResets()
    {
        var user = await Harness.AddUserAsync("retries");
        var task = await Harness.UploadAsync(user, [1]);
        var now = Harness.Clock.GetUtcNow().UtcDateTime;

        for (var retry = 1; retry <= Rules.MaxAttempts + 1; retry++)
        {
            var claim = (await ClaimAsync(task.Id, $"worker-{retry}")).Task!;
            Assert.True(await Harness.WithDbAsync((_, t) => t.RetryAsync(task.Id, claim.Fence, now, default)));
        }

        // More of the system's failures than the attempt limit, and the task is still claimable: only crashes count there.
        var row = await Harness.RowAsync(task.Id);
        Assert.Equal((Attempts: 0, Retries: Rules.MaxAttempts + 1), (row.Attempts, row.Retries));
        Assert.Equal(ClaimOutcome.Claimed, (await ClaimAsync(task.Id, "worker-last")).Outcome);
        var handedBack = await Harness.RowAsync(task.Id);
        Assert.True(await Harness.WithDbAsync((_, t) => t.HandBackAsync(task.Id, handedBack.Fence, default)));

        var seen = await Harness.RowAsync(task.Id);
        Assert.True(await Harness.WithDbAsync((_, t) => t.ReconvertAsync(seen, "flac", null, default)));
        var fresh = await Harness.RowAsync(task.Id);
        Assert.Equal((Attempts: 0, Retries: 0), (fresh.Attempts, fresh.Retries));
    }

    /// <summary>An in-process queue whose send fails, as a channel that was closed would.</summary>
    private sealed class RefusingQueue : ITaskQueue
    {
        public bool IsDurable => false;

        public Task PublishAsync(long taskId, CancellationToken cancellationToken) => throw new InvalidOperationException("the channel is closed");

        public Task<IQueueDelivery> ReceiveAsync(CancellationToken cancellationToken) => throw new InvalidOperationException("the channel is closed");

        public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(false);
    }
}

public sealed class SqliteTaskTransitionsTests : TaskTransitionsContract
{
    protected override string Provider => "Sqlite";
}

public sealed class PostgresTaskTransitionsTests : TaskTransitionsContract
{
    protected override string Provider => "Postgres";
}
