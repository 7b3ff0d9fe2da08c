using System.Globalization;
using System.Text;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Events;

/// <summary>GET /api/events: the caller's task changes as Server-Sent Events, resumable with Last-Event-ID.</summary>
public static partial class EventEndpoints
{
    public static RouteHandlerBuilder MapEventEndpoints(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/events", StreamAsync)
            .WithTags("Events")
            .RequireAuthorization()
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("The caller's task events (text/event-stream); reconnect with Last-Event-ID to resume");

    private static async Task<IResult> StreamAsync(
        CurrentUser user, HttpContext context, AppDbContext db, EventFeed feed, IOptions<EventsOptions> settings, TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var options = settings.Value;
        var userId = user.Id;
        var (lastId, invalid) = await LastEventIdAsync(context.Request, db, feed, cancellationToken);
        if (invalid is not null)
        {
            return invalid;
        }

        using var subscription = await feed.SubscribeAsync(userId, cancellationToken);
        if (subscription is null)
        {
            return Problems.TooManyRequests(context.Response, $"This account already has {options.MaxStreamsPerUser} event streams open; close one first.", options.Heartbeat);
        }

        var logger = loggers.CreateLogger("AudioConverter.Events");
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache, no-store";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        var writer = new StreamWriter(context, options.WriteTimeout);
        try
        {
            await writer.WriteAsync($"retry: 3000\n: connected\n\n", cancellationToken);
            var sent = subscription.From;
            if (lastId is { } resumeAfter)
            {
                var oldest = await db.TaskEvents.MinAsync(e => (long?)e.Id, cancellationToken);
                if (oldest is { } retained && resumeAfter + 1 < retained)
                {
                    // Events after it may have been pruned: the client cannot be brought up to date from the stream.
                    await writer.WriteAsync($"event: reset\ndata: {{\"reason\":\"Events after {resumeAfter} are older than the {options.RetentionHours:0.###} h retention window and were pruned; reload the task list.\"}}\n\n", cancellationToken);
                }
                else
                {
                    await SendBacklogAsync(db, writer, userId, resumeAfter, subscription.From, cancellationToken);
                }
            }

            var heartbeat = options.Heartbeat;
            await SendLiveAsync(subscription, writer, sent, heartbeat, cancellationToken);
        }
        catch (EventStreamOverflowException)
        {
            LogDropped(logger, userId, "its buffer filled");
        }
        catch (StreamWriteTimeoutException)
        {
            LogDropped(logger, userId, "it stopped reading");
            context.Abort();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }

        return Results.Empty;
    }

    /// <summary>Where a reconnecting client resumes (the Last-Event-ID header, or lastEventId for EventSource polyfills); null for now.</summary>
    private static async Task<(long? LastId, ValidationProblem? Invalid)> LastEventIdAsync(HttpRequest request, AppDbContext db, EventFeed feed, CancellationToken cancellationToken)
    {
        var raw = request.Headers["Last-Event-ID"].ToString();
        if (raw.Length == 0)
        {
            raw = request.Query["lastEventId"].ToString();
        }

        if (raw.Length == 0)
        {
            return (null, null);
        }

        if (!long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            return (null, Problems.Validation("Last-Event-ID", $"Last-Event-ID '{Shorten(raw)}' is not an event id; send the id of the last event received, or no Last-Event-ID to start from now."));
        }

        var newest = Math.Max(await db.TaskEvents.MaxAsync(e => (long?)e.Id, cancellationToken) ?? 0, feed.Position);
        return parsed > newest
            ? (null, Problems.Validation("Last-Event-ID", $"Last-Event-ID {parsed} is newer than any event ({newest}); it did not come from this service. Reconnect without it to start from now."))
            : (parsed, null);
    }

    /// <summary>Events as they happen, after <paramref name="sent"/>; a comment line every <paramref name="heartbeat"/> while none do.</summary>
    private static async Task SendLiveAsync(EventSubscription subscription, StreamWriter writer, long sent, TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(heartbeat);
            bool more;
            try
            {
                more = await subscription.Reader.WaitToReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await writer.WriteAsync(": heartbeat\n\n", cancellationToken);
                continue;
            }

            if (!more)
            {
                return;
            }

            while (subscription.Reader.TryRead(out var taskEvent))
            {
                if (taskEvent.Id > sent)
                {
                    await writer.WriteAsync(Format(taskEvent), cancellationToken);
                    sent = taskEvent.Id;
                }
            }
        }
    }

    private static async Task SendBacklogAsync(AppDbContext db, StreamWriter writer, long userId, long after, long upTo, CancellationToken cancellationToken)
    {
        var from = after;
        while (true)
        {
            var batch = await db.TaskEvents.AsNoTracking()
                .Where(e => e.UserId == userId && e.Id > from && e.Id <= upTo)
                .OrderBy(e => e.Id).Take(500).ToListAsync(cancellationToken);
            foreach (var taskEvent in batch)
            {
                await writer.WriteAsync(Format(taskEvent), cancellationToken);
                from = taskEvent.Id;
            }

            if (batch.Count < 500)
            {
                return;
            }
        }
    }

    /// <summary>One SSE message; a data line never holds a line break, as the format requires.</summary>
    public static string Format(TaskEvent taskEvent)
    {
        var data = taskEvent.Data ?? $"{{\"id\":{taskEvent.TaskId}}}";
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"id: {taskEvent.Id}\nevent: {taskEvent.Type}\n");
        foreach (var line in data.Split('\n'))
        {
            text.Append("data: ").Append(line.TrimEnd('\r')).Append('\n');
        }

        return text.Append('\n').ToString();
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "...";

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped an event stream of user {UserId}: {Reason}")]
    private static partial void LogDropped(ILogger logger, long userId, string reason);

    /// <summary>Writes and flushes, giving up when the client has not taken the bytes within the timeout.</summary>
    private sealed class StreamWriter(HttpContext context, TimeSpan timeout)
    {
        public async Task WriteAsync(string text, CancellationToken cancellationToken)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                await context.Response.WriteAsync(text, limit.Token);
                await context.Response.Body.FlushAsync(limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new StreamWriteTimeoutException();
            }
        }
    }

    private sealed class StreamWriteTimeoutException() : Exception("The client did not read within the write timeout.");
}
