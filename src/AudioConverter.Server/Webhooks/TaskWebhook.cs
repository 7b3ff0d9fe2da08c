using AudioConverter.Core.Notifications;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Notifications;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Webhooks;

/// <summary>
/// A task's own <c>webhookUrl</c> (the upload's multipart field, or the PUT body's field): an endpoint row bound to the
/// task, checked like any /api/webhooks URL (shape, credentials, SSRF), hearing only that task's task.processed and
/// task.failed, signed with a secret of its own that the answer shows once. It is written in the transaction that
/// creates the task, so the dispatcher never reads the task's events before the endpoint exists.
/// </summary>
public static class TaskWebhook
{
    public const string Field = "webhookUrl";

    private static readonly string Events = string.Join(',', TaskEventTypes.Processed, TaskEventTypes.Failed);

    /// <summary>A sentence saying what is wrong with the URL, or null when it may be used.</summary>
    public static Task<string?> ProblemAsync(string url, HttpContext context, CancellationToken cancellationToken) =>
        context.RequestServices.GetRequiredService<WebhookTargets>().ProblemAsync(url.Trim(), cancellationToken);

    /// <summary>
    /// Binds <paramref name="url"/> to the task, inside the caller's transaction: a new endpoint with a new secret
    /// (returned, to be shown once), or the task's existing endpoint pointed at the new URL (its secret kept; null).
    /// </summary>
    public static async Task<string?> AttachAsync(AppDbContext db, ConversionTask task, string url, DateTime now, CancellationToken cancellationToken)
    {
        var existing = await db.WebhookEndpoints.FirstOrDefaultAsync(w => w.TaskId == task.Id && w.UserId == task.UserId, cancellationToken);
        if (existing is not null)
        {
            existing.Url = url.Trim();
            existing.FromVersion = task.Version;
            existing.Enabled = true;
            existing.DisabledReason = null;
            existing.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }

        var endpoint = new WebhookEndpoint
        {
            UserId = task.UserId,
            TaskId = task.Id,
            FromVersion = task.Version,
            Url = url.Trim(),
            Events = Events,
            Description = $"webhookUrl of task {task.Id}",
            Secret = WebhookSignature.NewSecret(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.WebhookEndpoints.Add(endpoint);
        await db.SaveChangesAsync(cancellationToken);
        return endpoint.Secret;
    }
}
