using System.Threading.Channels;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Events;

/// <summary>
/// One reader of task_events per API process, fanning new rows out to that process's open streams. The rows are
/// written in the same transaction as each change, by whichever process made it, so every stream sees every change
/// whatever database, queue or process layout runs below; the queue plays no part.
/// </summary>
public sealed partial class EventFeed(IServiceScopeFactory scopes, IOptions<EventsOptions> settings, TimeProvider clock, ILogger<EventFeed> logger) : BackgroundService
{
    private const int ReadBatch = 500;

    private readonly EventsOptions options = settings.Value;
    private readonly Lock gate = new();
    private readonly Dictionary<long, List<EventSubscription>> byUser = [];
    private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long position;

    /// <summary>The id up to which every event has been handed to the streams.</summary>
    public long Position
    {
        get
        {
            lock (gate)
            {
                return position;
            }
        }
    }

    /// <summary>
    /// Opens a stream for <paramref name="userId"/>, or null when the user already holds the most streams allowed.
    /// Every event after the subscription's <see cref="EventSubscription.From"/> arrives in its channel.
    /// </summary>
    public async Task<EventSubscription?> SubscribeAsync(long userId, CancellationToken cancellationToken)
    {
        await started.Task.WaitAsync(cancellationToken);
        lock (gate)
        {
            if (!byUser.TryGetValue(userId, out var list))
            {
                list = [];
                byUser[userId] = list;
            }

            if (list.Count >= options.MaxStreamsPerUser)
            {
                return null;
            }

            var subscription = new EventSubscription(this, userId, position, options.BufferSize);
            list.Add(subscription);
            return subscription;
        }
    }

    internal void Unsubscribe(EventSubscription subscription)
    {
        lock (gate)
        {
            if (byUser.TryGetValue(subscription.UserId, out var list) && list.Remove(subscription) && list.Count == 0)
            {
                byUser.Remove(subscription.UserId);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var gaps = new FeedGaps(options.GapWait);
        var interval = options.PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                if (!started.Task.IsCompleted)
                {
                    position = await db.TaskEvents.MaxAsync(e => (long?)e.Id, stoppingToken) ?? 0;
                    started.TrySetResult();
                }

                var from = Position;
                var rows = await db.TaskEvents.AsNoTracking().Where(e => e.Id > from).OrderBy(e => e.Id).Take(ReadBatch).ToListAsync(stoppingToken);
                var take = gaps.Consumable(from, rows.ConvertAll(e => e.Id), clock.GetUtcNow());
                if (take > 0)
                {
                    Publish(rows.GetRange(0, take));
                }

                if (take == ReadBatch)
                {
                    continue;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogReadFailed(logger, e.Message);
            }

            try
            {
                await Task.Delay(interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        lock (gate)
        {
            foreach (var subscription in byUser.Values.SelectMany(l => l))
            {
                subscription.Writer.TryComplete();
            }
        }
    }

    private void Publish(List<TaskEvent> events)
    {
        lock (gate)
        {
            foreach (var taskEvent in events)
            {
                if (byUser.TryGetValue(taskEvent.UserId, out var list))
                {
                    foreach (var subscription in list)
                    {
                        if (!subscription.Writer.TryWrite(taskEvent) && subscription.Writer.TryComplete(new EventStreamOverflowException()))
                        {
                            LogOverflow(logger, taskEvent.UserId, options.BufferSize);
                        }
                    }
                }

                position = taskEvent.Id;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The event feed could not read task_events; trying again: {Reason}")]
    private static partial void LogReadFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed an event stream of user {UserId}: its client fell {BufferSize} events behind")]
    private static partial void LogOverflow(ILogger logger, long userId, int bufferSize);
}

/// <summary>One open stream: a bounded queue of the user's events after <see cref="From"/>.</summary>
public sealed class EventSubscription : IDisposable
{
    private readonly EventFeed feed;
    private readonly Channel<TaskEvent> channel;

    internal EventSubscription(EventFeed feed, long userId, long from, int capacity)
    {
        this.feed = feed;
        UserId = userId;
        From = from;
        channel = Channel.CreateBounded<TaskEvent>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
    }

    public long UserId { get; }

    /// <summary>The feed's position when the stream opened: older events come from the database, newer ones through <see cref="Reader"/>.</summary>
    public long From { get; }

    public ChannelReader<TaskEvent> Reader => channel.Reader;

    internal ChannelWriter<TaskEvent> Writer => channel.Writer;

    public void Dispose() => feed.Unsubscribe(this);
}

/// <summary>The stream's client read too slowly and its buffer filled.</summary>
public sealed class EventStreamOverflowException() : Exception("The client fell too far behind; reconnect with Last-Event-ID.");
