using System.Globalization;
using System.Text;
using System.Text.Json;
using AudioConverter.Core.Notifications;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Notifications;
using AudioConverter.Server.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Notifications;

/// <summary>
/// Runs in each worker process. Turns new task_events rows into outbox messages (one per matching webhook endpoint,
/// one e-mail to a verified owner who wants them) in the transaction that advances its persisted cursor, then sends
/// due messages, each under a row lease so two dispatchers never send the same message at once. Delivery is at least
/// once: a crash after a send and before its row is marked sends it again, with the same webhook-id.
/// </summary>
public sealed partial class OutboxDispatcher(
    IServiceScopeFactory scopes,
    WebhookSender webhooks,
    SmtpMailSender mail,
    NotificationOptions mailOptions,
    IOptions<WebhookOptions> webhookSettings,
    IOptions<EventsOptions> eventSettings,
    TimeProvider clock,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    public const string CursorName = "dispatcher";

    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(1);

    /// <summary>Delivered and given-up messages, and their attempts, are kept this long for the delivery log.</summary>
    public static readonly TimeSpan LogRetention = TimeSpan.FromDays(7);

    private readonly WebhookOptions options = webhookSettings.Value;
    private readonly RetrySchedule schedule = webhookSettings.Value.Schedule;
    private readonly string owner = $"{Environment.ProcessId}:{Guid.NewGuid():N}";
    private long round;
    private readonly SemaphoreSlim slots = new(webhookSettings.Value.MaxConcurrentSends);
    private readonly FeedGaps gaps = new(TimeSpan.FromSeconds(eventSettings.Value.GapWaitSeconds));
    private DateTimeOffset nextPrune;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var idle = options.PollInterval;
        var running = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            try
            {
                busy |= await FanOutAsync(stoppingToken);
                busy |= await StartDueAsync(running, stoppingToken);
                if (clock.GetUtcNow() >= nextPrune)
                {
                    nextPrune = clock.GetUtcNow() + PruneEvery;
                    await PruneAsync(stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogLoopFailed(logger, e.Message);
            }

            running.RemoveAll(t => t.IsCompleted);
            if (!busy)
            {
                try
                {
                    await Task.Delay(idle, clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        // Sends in flight finish or are cancelled; a message cut off stays leased and is sent again after its lease.
        await Task.WhenAll(running).WaitAsync(options.Timeout, CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>One batch of task events into outbox messages; true when there may be more.</summary>
    private async Task<bool> FanOutAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var cursor = await db.OutboxCursors.AsNoTracking().FirstOrDefaultAsync(c => c.Name == CursorName, cancellationToken);
        if (cursor is null)
        {
            db.OutboxCursors.Add(new OutboxCursor { Name = CursorName, Position = 0 });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Another dispatcher made it first.
            }

            return true;
        }

        var events = await db.TaskEvents.AsNoTracking().Where(e => e.Id > cursor.Position).OrderBy(e => e.Id).Take(options.BatchSize).ToListAsync(cancellationToken);
        var take = gaps.Consumable(cursor.Position, events.ConvertAll(e => e.Id), clock.GetUtcNow());
        if (take == 0)
        {
            return false;
        }

        events = events.GetRange(0, take);
        var messages = await MessagesAsync(db, events, cancellationToken);

        // The cursor moves only from where this dispatcher read it: a second dispatcher that read the same batch changes nothing.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var last = events[^1].Id;
        var moved = await db.OutboxCursors.Where(c => c.Name == CursorName && c.Position == cursor.Position)
            .ExecuteUpdateAsync(c => c.SetProperty(x => x.Position, last), cancellationToken);
        if (moved == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return true;
        }

        db.Outbox.AddRange(messages);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return take == options.BatchSize;
    }

    /// <summary>The messages a batch of events makes: one per matching webhook endpoint, and a mail where the user wants one.</summary>
    private async Task<List<OutboxMessage>> MessagesAsync(AppDbContext db, List<TaskEvent> events, CancellationToken cancellationToken)
    {
        var users = events.Select(e => e.UserId).Distinct().ToList();
        var endpoints = await db.WebhookEndpoints.AsNoTracking().Where(w => users.Contains(w.UserId) && w.Enabled).ToListAsync(cancellationToken);
        var mailTo = await db.Users.AsNoTracking()
            .Where(u => users.Contains(u.Id) && u.EmailVerifiedAt != null && u.NotificationsEnabled)
            .ToDictionaryAsync(u => u.Id, u => u.Email, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var messages = new List<OutboxMessage>();
        foreach (var taskEvent in events)
        {
            foreach (var endpoint in endpoints.Where(w => Hears(w, taskEvent)))
            {
                messages.Add(new OutboxMessage
                {
                    Kind = OutboxKinds.Webhook,
                    UserId = taskEvent.UserId,
                    EndpointId = endpoint.Id,
                    EventId = taskEvent.Id,
                    Type = taskEvent.Type,
                    MessageId = $"msg_{taskEvent.Id}",
                    Payload = WebhookBody(taskEvent),
                    CreatedAt = now,
                    NextAttemptAt = now,
                });
            }

            if (taskEvent.Type is TaskEventTypes.Processed or TaskEventTypes.Failed && mailTo.TryGetValue(taskEvent.UserId, out var address)
                && TaskMail.From(taskEvent) is { } notification)
            {
                messages.Add(new OutboxMessage
                {
                    Kind = OutboxKinds.Email,
                    UserId = taskEvent.UserId,
                    EventId = taskEvent.Id,
                    Type = taskEvent.Type,
                    MessageId = $"mail_{taskEvent.Id}",
                    Payload = address,
                    Content = notification.Subject + "\n" + notification.Body(mailOptions.BaseUrl),
                    CreatedAt = now,
                    NextAttemptAt = now,
                });
            }
        }

        return messages;
    }

    /// <summary>Claims due messages up to the free send slots and starts sending them; true when all slots were filled.</summary>
    private async Task<bool> StartDueAsync(List<Task> running, CancellationToken cancellationToken)
    {
        var free = Math.Min(slots.CurrentCount, options.BatchSize);
        if (free == 0)
        {
            // Every slot is busy: wait for one, but never longer than a poll.
            await Task.WhenAny(Task.WhenAny(running), Task.Delay(options.PollInterval, clock, cancellationToken));
            return true;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var due = await db.Outbox.AsNoTracking()
            .Where(m => m.Status == OutboxStatuses.Pending && m.NextAttemptAt <= now && (m.LeaseExpiresAt == null || m.LeaseExpiresAt < now))
            .OrderBy(m => m.NextAttemptAt).Select(m => m.Id).Take(free).ToListAsync(cancellationToken);
        if (due.Count == 0)
        {
            return false;
        }

        // Each claim has its own lease token, so the rows read back are exactly the ones this round won.
        var lease = now + (options.Timeout * 2) + TimeSpan.FromSeconds(30);
        var token = $"{owner}:{++round}";
        await db.Outbox.Where(m => due.Contains(m.Id) && m.Status == OutboxStatuses.Pending && (m.LeaseExpiresAt == null || m.LeaseExpiresAt < now))
            .ExecuteUpdateAsync(m => m.SetProperty(x => x.LeaseOwner, token).SetProperty(x => x.LeaseExpiresAt, lease), cancellationToken);
        var claimed = await db.Outbox.AsNoTracking().Where(m => due.Contains(m.Id) && m.LeaseOwner == token).ToListAsync(cancellationToken);
        foreach (var message in claimed)
        {
            await slots.WaitAsync(cancellationToken);
            running.Add(Task.Run(() => SendAsync(message, cancellationToken), CancellationToken.None));
        }

        return claimed.Count == free;
    }

    private async Task SendAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        try
        {
            if (message.Kind == OutboxKinds.Webhook)
            {
                await SendWebhookAsync(message, cancellationToken);
            }
            else
            {
                await SendMailAsync(message, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogSendFailed(logger, message.Id, e.Message);
        }
        finally
        {
            slots.Release();
        }
    }

    private async Task SendWebhookAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var endpoint = await db.WebhookEndpoints.AsNoTracking().FirstOrDefaultAsync(w => w.Id == message.EndpointId, cancellationToken);
        var attemptedAt = clock.GetUtcNow();
        if (endpoint is not { Enabled: true })
        {
            await FinishAsync(db, message, OutboxStatuses.Failed, null, new WebhookResult(null, TimeSpan.Zero, endpoint is null ? "The endpoint was deleted." : "The endpoint is disabled: " + endpoint.DisabledReason), attemptedAt, cancellationToken);
            return;
        }

        var result = await webhooks.SendAsync(endpoint.Url, endpoint.Secret, message.MessageId, message.Payload, cancellationToken);
        if (result.Delivered)
        {
            await FinishAsync(db, message, OutboxStatuses.Delivered, null, result, attemptedAt, cancellationToken);
            return;
        }

        if (result.StatusCode == StatusCodes.Status410Gone)
        {
            // The receiver says the endpoint is gone for good: stop sending to it at all.
            var reason = $"It answered 410 Gone at {attemptedAt:u}; update or re-enable it to receive events again.";
            await db.WebhookEndpoints.Where(w => w.Id == endpoint.Id)
                .ExecuteUpdateAsync(w => w.SetProperty(x => x.Enabled, false).SetProperty(x => x.DisabledReason, reason).SetProperty(x => x.UpdatedAt, attemptedAt.UtcDateTime), cancellationToken);
            LogDisabled(logger, endpoint.Id);
            await FinishAsync(db, message, OutboxStatuses.Failed, null, result, attemptedAt, cancellationToken);
            return;
        }

        var next = schedule.Next(message.Attempts + 1, new DateTimeOffset(DateTime.SpecifyKind(message.CreatedAt, DateTimeKind.Utc)), clock.GetUtcNow(), Random.Shared.NextDouble());
        await FinishAsync(db, message, next is null ? OutboxStatuses.Failed : OutboxStatuses.Pending, next, result, attemptedAt, cancellationToken);
    }

    private async Task SendMailAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var attemptedAt = clock.GetUtcNow();
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == message.UserId, cancellationToken);
        var isVerification = message.Type == VerificationMail.Type;
        if (user is null || user.Email != message.Payload || (!isVerification && !(user.EmailVerifiedAt is not null && user.NotificationsEnabled)))
        {
            await FinishAsync(db, message, OutboxStatuses.Failed, null, new WebhookResult(null, TimeSpan.Zero, "Not sent: the address is no longer the account's verified address, or notifications were turned off."), attemptedAt, cancellationToken);
            return;
        }

        var newline = message.Content!.IndexOf('\n', StringComparison.Ordinal);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await mail.SendAsync(message.Payload, message.Content[..newline], message.Content[(newline + 1)..], cancellationToken);
            await FinishAsync(db, message, OutboxStatuses.Delivered, null, new WebhookResult(250, System.Diagnostics.Stopwatch.GetElapsedTime(started), "accepted"), attemptedAt, cancellationToken);
            LogMailed(logger, message.Type, message.Id);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var permanent = e is FormatException || message.Attempts + 1 >= mailOptions.MaxAttempts;
            DateTimeOffset? next = permanent ? null : clock.GetUtcNow() + mailOptions.RetryDelay * Math.Pow(2, message.Attempts);
            await FinishAsync(db, message, permanent ? OutboxStatuses.Failed : OutboxStatuses.Pending, next, new WebhookResult(null, System.Diagnostics.Stopwatch.GetElapsedTime(started), e.Message), attemptedAt, cancellationToken);
        }
    }

    /// <summary>Logs the attempt and settles the message, but only while this dispatcher still holds its lease.</summary>
    private async Task FinishAsync(AppDbContext db, OutboxMessage message, string status, DateTimeOffset? next, WebhookResult result, DateTimeOffset attemptedAt, CancellationToken cancellationToken)
    {
        // One commit for the log line and the message's new state.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.DeliveryAttempts.Add(new DeliveryAttempt
        {
            MessageId = message.Id,
            EndpointId = message.EndpointId,
            AttemptedAt = attemptedAt.UtcDateTime,
            StatusCode = result.StatusCode,
            DurationMilliseconds = (int)Math.Min(int.MaxValue, result.Duration.TotalMilliseconds),
            Response = result.Response,
        });
        await db.SaveChangesAsync(cancellationToken);
        if (status == OutboxStatuses.Failed)
        {
            LogGaveUp(logger, message.Type, message.Id, message.Attempts + 1, result.StatusCode is { } code ? $"HTTP {code}" : result.Response);
        }

        var delivered = status == OutboxStatuses.Delivered ? attemptedAt.UtcDateTime : (DateTime?)null;
        var nextAt = (next ?? attemptedAt).UtcDateTime;
        await db.Outbox.Where(m => m.Id == message.Id && m.LeaseOwner == message.LeaseOwner)
            .ExecuteUpdateAsync(m => m
                .SetProperty(x => x.Status, status)
                .SetProperty(x => x.Attempts, x => x.Attempts + 1)
                .SetProperty(x => x.NextAttemptAt, nextAt)
                .SetProperty(x => x.DeliveredAt, delivered)
                .SetProperty(x => x.LeaseOwner, (string?)null)
                .SetProperty(x => x.LeaseExpiresAt, (DateTime?)null), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Drops events older than the retention window that the outbox has already read, and old settled messages, in batches.</summary>
    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var eventsBefore = now - TimeSpan.FromHours(eventSettings.Value.RetentionHours);
        var read = await db.OutboxCursors.Where(c => c.Name == CursorName).Select(c => c.Position).FirstOrDefaultAsync(cancellationToken);

        // The newest event is always kept: it tells a Last-Event-ID that is merely old from one that is made up.
        var newest = await db.TaskEvents.MaxAsync(e => (long?)e.Id, cancellationToken) ?? 0;
        int deleted;
        do
        {
            var batch = await db.TaskEvents.Where(e => e.CreatedAt < eventsBefore && e.Id <= read && e.Id < newest).OrderBy(e => e.Id).Select(e => e.Id).Take(1000).ToListAsync(cancellationToken);
            deleted = batch.Count == 0 ? 0 : await db.TaskEvents.Where(e => batch.Contains(e.Id)).ExecuteDeleteAsync(cancellationToken);
        }
        while (deleted == 1000);

        var logBefore = now - LogRetention;
        do
        {
            var batch = await db.Outbox.Where(m => m.Status != OutboxStatuses.Pending && m.CreatedAt < logBefore).OrderBy(m => m.Id).Select(m => m.Id).Take(1000).ToListAsync(cancellationToken);
            await db.DeliveryAttempts.Where(a => batch.Contains(a.MessageId)).ExecuteDeleteAsync(cancellationToken);
            deleted = batch.Count == 0 ? 0 : await db.Outbox.Where(m => batch.Contains(m.Id)).ExecuteDeleteAsync(cancellationToken);
        }
        while (deleted == 1000);
    }

    /// <summary>
    /// Whether an endpoint is sent an event: the user's own, of a type it asked for, and for a task's own endpoint only
    /// that task's events from the version the endpoint was given for.
    /// </summary>
    public static bool Hears(WebhookEndpoint endpoint, TaskEvent taskEvent) =>
        endpoint.UserId == taskEvent.UserId
        && (endpoint.TaskId is null || (endpoint.TaskId == taskEvent.TaskId && taskEvent.Version >= endpoint.FromVersion))
        && endpoint.EventList.Contains(taskEvent.Type);

    /// <summary>The Standard Webhooks body: {type, timestamp, data}.</summary>
    public static string WebhookBody(TaskEvent taskEvent)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", taskEvent.Type);
            json.WriteString("timestamp", DateTime.SpecifyKind(taskEvent.CreatedAt, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture));
            json.WritePropertyName("data");
            json.WriteRawValue(taskEvent.Data ?? $"{{\"id\":{taskEvent.TaskId}}}");
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The outbox dispatcher failed a round; trying again: {Reason}")]
    private static partial void LogLoopFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending outbox message {MessageId} failed: {Reason}")]
    private static partial void LogSendFailed(ILogger logger, long messageId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gave up the {Type} message {MessageId} after {Attempts} attempts: {Reason}")]
    private static partial void LogGaveUp(ILogger logger, string type, long messageId, int attempts, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {EndpointId} answered 410 Gone and is disabled")]
    private static partial void LogDisabled(ILogger logger, long endpointId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent the {Type} e-mail of outbox message {MessageId}")]
    private static partial void LogMailed(ILogger logger, string type, long messageId);
}
