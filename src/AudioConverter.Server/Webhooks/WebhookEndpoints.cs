using AudioConverter.Core.Notifications;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Notifications;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Webhooks;

/// <summary>/api/webhooks: the caller's endpoints, their secrets, and their delivery logs.</summary>
public static class WebhookEndpoints
{
    private static readonly string[] DefaultEvents = [TaskEventTypes.Processed, TaskEventTypes.Failed];

    public static RouteGroupBuilder MapWebhookEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/webhooks").WithTags("Webhooks").RequireAuthorization();
        group.MapPost("/", CreateAsync).Accepts<WebhookRequest>("application/json").WithSummary("Add an endpoint; the answer holds its signing secret, shown only this once");
        group.MapGet("/", ListAsync).WithSummary("The caller's endpoints");
        group.MapGet("/{id:long}", GetAsync).WithSummary("One endpoint");
        group.MapPut("/{id:long}", UpdateAsync).Accepts<WebhookRequest>("application/json").WithSummary("Change an endpoint's URL, events or description, or enable it again");
        group.MapDelete("/{id:long}", DeleteAsync).WithSummary("Delete an endpoint; its pending deliveries are dropped");
        group.MapPost("/{id:long}/rotate-secret", RotateAsync).WithSummary("Replace the signing secret; the answer holds the new one, shown only this once");
        group.MapGet("/{id:long}/deliveries", DeliveriesAsync).WithSummary("The endpoint's deliveries, newest first, each with its attempts");
        group.MapPost("/{id:long}/deliveries/{deliveryId:long}/redeliver", RedeliverAsync).WithSummary("Send a delivery again (same webhook-id)");
        return group;
    }

    private static async Task<Results<Created<WebhookResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CurrentUser user, HttpContext context, AppDbContext db, WebhookTargets targets, IOptions<WebhookOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestJson.ReadAsync<WebhookRequest>(context.Request, cancellationToken);
        if (body is null)
        {
            return Problems.Validation("body", error!);
        }

        var (events, errors) = await ValidateAsync(body, targets, cancellationToken);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var userId = user.Id;
        var count = await db.WebhookEndpoints.CountAsync(w => w.UserId == userId && w.TaskId == null, cancellationToken);
        if (count >= options.Value.MaxEndpointsPerUser)
        {
            return Problems.Conflict($"This account already has {count} webhook endpoints, the most allowed; delete one first.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var endpoint = new WebhookEndpoint
        {
            UserId = userId,
            Url = body.Url!.Trim(),
            Events = string.Join(',', events),
            Description = body.Description?.Trim(),
            Secret = WebhookSignature.NewSecret(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.WebhookEndpoints.Add(endpoint);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/webhooks/{endpoint.Id}", WebhookResponse.From(endpoint, withSecret: true));
    }

    private static async Task<Ok<List<WebhookResponse>>> ListAsync(CurrentUser user, AppDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.Id;
        var endpoints = await db.WebhookEndpoints.AsNoTracking().Where(w => w.UserId == userId && w.TaskId == null).OrderBy(w => w.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(endpoints.ConvertAll(e => WebhookResponse.From(e, withSecret: false)));
    }

    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> GetAsync(long id, HttpContext context, AppDbContext db, CancellationToken cancellationToken) =>
        await FindAsync(db, context, id, cancellationToken) is { } endpoint ? TypedResults.Ok(WebhookResponse.From(endpoint, withSecret: false)) : Problems.NotFound("webhook");

    private static async Task<Results<Ok<WebhookResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        long id, HttpContext context, AppDbContext db, WebhookTargets targets, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestJson.ReadAsync<WebhookRequest>(context.Request, cancellationToken);
        if (body is null)
        {
            return Problems.Validation("body", error!);
        }

        var endpoint = await FindAsync(db, context, id, cancellationToken, tracked: true);
        if (endpoint is null)
        {
            return Problems.NotFound("webhook");
        }

        var (events, errors) = await ValidateAsync(body with { Url = body.Url ?? endpoint.Url, Events = body.Events ?? endpoint.EventList.ToList() }, targets, cancellationToken);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        endpoint.Url = (body.Url ?? endpoint.Url).Trim();
        endpoint.Events = string.Join(',', events);
        endpoint.Description = body.Description is null ? endpoint.Description : body.Description.Trim();
        if (body.Enabled is { } enabled)
        {
            endpoint.Enabled = enabled;
            endpoint.DisabledReason = enabled ? null : "Disabled by its owner.";
        }

        endpoint.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(WebhookResponse.From(endpoint, withSecret: false));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(long id, HttpContext context, AppDbContext db, CancellationToken cancellationToken)
    {
        var endpoint = await FindAsync(db, context, id, cancellationToken);
        if (endpoint is null)
        {
            return Problems.NotFound("webhook");
        }

        await db.WebhookEndpoints.Where(w => w.Id == endpoint.Id).ExecuteDeleteAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> RotateAsync(long id, HttpContext context, AppDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var endpoint = await FindAsync(db, context, id, cancellationToken, tracked: true);
        if (endpoint is null)
        {
            return Problems.NotFound("webhook");
        }

        endpoint.Secret = WebhookSignature.NewSecret();
        endpoint.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(WebhookResponse.From(endpoint, withSecret: true));
    }

    private static async Task<Results<Ok<List<DeliveryResponse>>, ValidationProblem, ProblemHttpResult>> DeliveriesAsync(
        long id, int? max, HttpContext context, AppDbContext db, CancellationToken cancellationToken)
    {
        if (max is < 1 or > 200)
        {
            return Problems.Validation("max", "'max' must be a whole number from 1 to 200.");
        }

        var endpoint = await FindAsync(db, context, id, cancellationToken);
        if (endpoint is null)
        {
            return Problems.NotFound("webhook");
        }

        var messages = await db.Outbox.AsNoTracking().Where(m => m.EndpointId == endpoint.Id).OrderByDescending(m => m.Id).Take(max ?? 50).ToListAsync(cancellationToken);
        var ids = messages.ConvertAll(m => m.Id);
        var attempts = (await db.DeliveryAttempts.AsNoTracking().Where(a => ids.Contains(a.MessageId)).OrderBy(a => a.Id).ToListAsync(cancellationToken))
            .ToLookup(a => a.MessageId);
        return TypedResults.Ok(messages.ConvertAll(m => DeliveryResponse.From(m, attempts[m.Id])));
    }

    private static async Task<Results<Accepted<DeliveryResponse>, ProblemHttpResult>> RedeliverAsync(
        long id, long deliveryId, HttpContext context, AppDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var endpoint = await FindAsync(db, context, id, cancellationToken);
        if (endpoint is null)
        {
            return Problems.NotFound("webhook");
        }

        if (!endpoint.Enabled)
        {
            return Problems.Conflict($"The endpoint is disabled ({endpoint.DisabledReason}); enable it with PUT {{\"enabled\": true}} first.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var changed = await db.Outbox.Where(m => m.Id == deliveryId && m.EndpointId == endpoint.Id)
            .ExecuteUpdateAsync(m => m.SetProperty(x => x.Status, OutboxStatuses.Pending).SetProperty(x => x.NextAttemptAt, now).SetProperty(x => x.CreatedAt, now), cancellationToken);
        if (changed == 0)
        {
            return Problems.NotFound("delivery");
        }

        var message = await db.Outbox.AsNoTracking().FirstAsync(m => m.Id == deliveryId, cancellationToken);
        return TypedResults.Accepted($"/api/webhooks/{endpoint.Id}/deliveries", DeliveryResponse.From(message, []));
    }

    private static async Task<WebhookEndpoint?> FindAsync(AppDbContext db, HttpContext context, long id, CancellationToken cancellationToken, bool tracked = false)
    {
        var userId = CurrentUser.Of(context.User).Id;
        var query = tracked ? db.WebhookEndpoints : db.WebhookEndpoints.AsNoTracking();
        return await query.FirstOrDefaultAsync(w => w.Id == id && w.UserId == userId && w.TaskId == null, cancellationToken);
    }

    private static async Task<(List<string> Events, Dictionary<string, string[]> Errors)> ValidateAsync(WebhookRequest body, WebhookTargets targets, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (await targets.ProblemAsync(body.Url?.Trim(), cancellationToken) is { } urlProblem)
        {
            errors["url"] = [urlProblem];
        }

        var events = body.Events ?? [.. DefaultEvents];
        var unknown = events.Where(e => !TaskEventTypes.All.Contains(e)).ToList();
        if (events.Count == 0 || unknown.Count > 0)
        {
            errors["events"] = [$"{(unknown.Count > 0 ? $"Unknown event type '{unknown[0]}'. " : "")}Choose one or more of {string.Join(", ", TaskEventTypes.All)}."];
        }

        if (body.Description is { Length: > 256 })
        {
            errors["description"] = ["The description is at most 256 characters."];
        }

        return (events.Distinct().ToList(), errors);
    }
}

public sealed record WebhookRequest(string? Url, List<string>? Events, string? Description, bool? Enabled);

public sealed record WebhookResponse(long Id, string Url, IReadOnlyList<string> Events, string? Description, bool Enabled, string? DisabledReason, DateTime CreatedAt, string? Secret)
{
    public static WebhookResponse From(WebhookEndpoint endpoint, bool withSecret) => new(
        endpoint.Id,
        endpoint.Url,
        endpoint.EventList,
        endpoint.Description,
        endpoint.Enabled,
        endpoint.DisabledReason,
        DateTime.SpecifyKind(endpoint.CreatedAt, DateTimeKind.Utc),
        withSecret ? endpoint.Secret : null);
}

public sealed record AttemptResponse(DateTime AttemptedAt, int? StatusCode, int DurationMilliseconds, string? Response);

public sealed record DeliveryResponse(long Id, string WebhookId, string Type, long? EventId, string Status, int Attempts, DateTime CreatedAt, DateTime? DeliveredAt, DateTime? NextAttemptAt, List<AttemptResponse> AttemptLog)
{
    public static DeliveryResponse From(OutboxMessage message, IEnumerable<DeliveryAttempt> attempts) => new(
        message.Id,
        message.MessageId,
        message.Type,
        message.EventId,
        message.Status,
        message.Attempts,
        DateTime.SpecifyKind(message.CreatedAt, DateTimeKind.Utc),
        message.DeliveredAt is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null,
        message.Status == OutboxStatuses.Pending ? DateTime.SpecifyKind(message.NextAttemptAt, DateTimeKind.Utc) : null,
        attempts.Select(a => new AttemptResponse(DateTime.SpecifyKind(a.AttemptedAt, DateTimeKind.Utc), a.StatusCode, a.DurationMilliseconds, a.Response)).ToList());
}
