using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Server.Worker;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AudioConverter.Tests.Lifecycle;

/// <summary>The real worker (TaskProcessor, ffmpeg, SQLite, local disk) on a fake clock: every way out settles, and a lost lease stops at once.</summary>
public sealed class WorkerLifecycleTests : IAsyncLifetime
{
    private LifecycleHarness harness = null!;

    public async Task InitializeAsync() => harness = await LifecycleHarness.StartAsync("Sqlite");

    public async Task DisposeAsync() => await harness.DisposeAsync();

    [Fact]
    public async Task ADatabaseErrorWhileRecordingAFailureSettlesTheMessageStopsTheRenewerAndLeavesTheLeaseToTheSweeper()
    {
        var user = await harness.AddUserAsync("broken");
        var task = await harness.UploadAsync(user, HostileFiles.Id3Prefixed([.. Enumerable.Range(0, 20_000).Select(i => (byte)(i * 7919 % 251))]));

        // The database refuses exactly the write that records the failure, as a restart at that moment would.
        await harness.WithDbAsync((db, _) => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_failed BEFORE UPDATE ON tasks WHEN NEW.Status = 'Failed' BEGIN SELECT RAISE(ABORT, 'the database is restarting'); END;"));
        var delivery = await DeliverAsync(task.Id);
        var processor = ActivatorUtilities.CreateInstance<TaskProcessor>(harness.Services);

        await processor.ProcessAsync(delivery, CancellationToken.None);

        Assert.Equal(["ack"], delivery.Settlements);
        var held = await harness.RowAsync(task.Id);
        Assert.Equal(ConversionStatus.Processing, held.Status);

        // No renewal for the life of the process: the lease stays where the claim put it, and expires.
        for (var i = 0; i < 6; i++)
        {
            harness.Clock.Advance(TimeSpan.FromSeconds(10));
            await Task.Delay(50);
        }

        Assert.Equal(held.LeaseExpiresAt, (await harness.RowAsync(task.Id)).LeaseExpiresAt);

        await harness.WithDbAsync((db, _) => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_failed"));
        var queue = new InProcessTaskQueue();
        await ActivatorUtilities.CreateInstance<Sweeper>(harness.Services, queue).SweepAsync(republishAll: false, default);
        Assert.Equal(ConversionStatus.Uploaded, (await harness.RowAsync(task.Id)).Status);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public async Task AWorkerWhoseRenewalFindsAnotherClaimStopsFfmpegAtOnceAndDeletesWhatItWrote()
    {
        var user = await harness.AddUserAsync("stale");
        var task = await harness.UploadAsync(user, LongAudio.Flac(1200), newFormat: "mp3");
        var delivery = await DeliverAsync(task.Id);
        var processor = ActivatorUtilities.CreateInstance<TaskProcessor>(harness.Services);
        var work = harness.Services.GetRequiredService<IOptions<WorkerOptions>>().Value.EffectiveTempPath;

        var running = processor.ProcessAsync(delivery, CancellationToken.None);
        await Deadline.UntilAsync(() => Deadline.FilesUnder(work).Any(f => Path.GetFileName(f).StartsWith("output", StringComparison.Ordinal) && new FileInfo(f).Length > 0), TimeSpan.FromSeconds(60), "ffmpeg writing its output");

        // Another worker took the task over (this lease expired unnoticed): its claim bumped the fence.
        await harness.WithDbAsync((db, _) => db.Tasks.Where(t => t.Id == task.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Fence, t => t.Fence + 1).SetProperty(t => t.LeaseOwner, "the-winner")));
        await Deadline.UntilAsync(() =>
        {
            harness.Clock.Advance(TimeSpan.FromSeconds(10));
            return running.IsCompleted;
        }, TimeSpan.FromSeconds(20), "the stale worker stopping");

        await running;
        Assert.Equal(["ack"], delivery.Settlements);
        Assert.Empty(Deadline.FilesUnder(work));
        Assert.Empty(Deadline.FilesUnder(Path.Combine(harness.BlobFolder, "converted")));
        var row = await harness.RowAsync(task.Id);
        Assert.Equal(ConversionStatus.Processing, row.Status);
        Assert.Equal("the-winner", row.LeaseOwner);
        Assert.Null(row.OutputKey);
    }

    [Fact]
    public async Task AProcessedOutputIsStoredUnderTheKeyOfItsFenceAndTheRowRecordsIt()
    {
        var user = await harness.AddUserAsync("fenced");
        var task = await harness.UploadAsync(user, Fixtures.AudioSamples.Get("mp3", 1));
        var delivery = await DeliverAsync(task.Id);

        await ActivatorUtilities.CreateInstance<TaskProcessor>(harness.Services).ProcessAsync(delivery, CancellationToken.None);

        var row = await harness.RowAsync(task.Id);
        Assert.Equal(ConversionStatus.Processed, row.Status);
        Assert.Equal($"converted/{task.Id}-v1-f1.ogg", row.OutputKey);
        await using var output = await harness.Services.GetRequiredService<IBlobStore>().OpenReadAsync(row.OutputKey!, default);
        Assert.Equal(row.OutputBytes, output!.Length);
        // Created, then progress (the claim's, and at most about one a second while ffmpeg runs), then processed once.
        var types = (await harness.EventsAsync(task.Id)).Select(e => e.Type).ToList();
        Assert.Equal(TaskEventTypes.Created, types[0]);
        Assert.Equal(TaskEventTypes.Processed, types[^1]);
        Assert.InRange(types.Count, 3, 100);
        Assert.All(types[1..^1], type => Assert.Equal(TaskEventTypes.Progress, type));
    }

    private static async Task<RecordingDelivery> DeliverAsync(long taskId)
    {
        var queue = new InProcessTaskQueue();
        await queue.PublishAsync(taskId, default);
        return new RecordingDelivery(await queue.ReceiveAsync(default));
    }

    /// <summary>The in-process queue's real delivery, recording how the processor settled it.</summary>
    private sealed class RecordingDelivery(IQueueDelivery inner) : IQueueDelivery
    {
        public List<string> Settlements { get; } = [];
        public long TaskId => inner.TaskId;
        public int DeliveryCount => inner.DeliveryCount;

        public Task AckAsync(CancellationToken cancellationToken)
        {
            Settlements.Add("ack");
            return inner.AckAsync(cancellationToken);
        }

        public Task NackAsync(bool requeue, CancellationToken cancellationToken)
        {
            Settlements.Add(requeue ? "requeue" : "dead-letter");
            return inner.NackAsync(requeue, cancellationToken);
        }

        public Task KeepAliveAsync(CancellationToken cancellationToken) => inner.KeepAliveAsync(cancellationToken);
    }
}
