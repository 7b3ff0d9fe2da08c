using AudioConverter.Core.Users;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> on <c>POST /api/tasks</c> and <c>PUT /api/tasks/{id}</c>, as the IETF httpapi draft describes:
/// the first successful answer is stored for 24 hours per user and key and sent again to a retry, which does nothing
/// again; the same key with another request (method, path or body) is 422; a retry while the first is still running
/// is 409; an empty key or one over 255 characters is 400. An answer other than 2xx is not stored: such a request
/// changed nothing, so the key is released and a retry runs again.
/// </summary>
public sealed partial class IdempotencyMiddleware(RequestDelegate next, TimeProvider clock, ILogger<IdempotencyMiddleware> logger)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const string ReusedType = "/problems/idempotency-key-reused";
    public const int MaxKeyLength = 255;
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>A first request that has not finished after this long (its process died) no longer holds its key.</summary>
    public static readonly TimeSpan InFlightLease = TimeSpan.FromMinutes(15);

    private const int MaxStoredBodyBytes = 256 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Headers.TryGetValue(Header, out var values) || !Applies(context) || context.User.Identity?.IsAuthenticated != true)
        {
            await next(context);
            return;
        }

        // Resolved here, not as an InvokeAsync parameter: that would take a DbContext from the pool for every request
        // of every route (the listing profile showed it on GETs that never use one).
        var db = context.RequestServices.GetRequiredService<AppDbContext>();

        var key = values.Count == 1 ? values[0] ?? "" : "";
        if (key.Length is 0 or > MaxKeyLength || key.Any(char.IsControl))
        {
            await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "The request is not valid.",
                values.Count > 1
                    ? "Send one Idempotency-Key header, not several."
                    : $"The Idempotency-Key header must be 1 to {MaxKeyLength} printable characters, e.g. a UUID; this one is {(key.Length == 0 ? "empty" : $"{key.Length} characters")}.",
                Problems.ValidationType);
            return;
        }

        var cancellationToken = context.RequestAborted;
        var userId = CurrentUser.Of(context.User).Id;
        var now = clock.GetUtcNow().UtcDateTime;
        var existing = await FindLiveAsync(db, userId, key, now, cancellationToken);
        if (existing is { Status: null })
        {
            await InFlightAsync(context);
            return;
        }

        using var fingerprint = new RequestFingerprint(context.Request);
        var body = new FingerprintingStream(context.Request.Body, fingerprint);
        if (existing is not null)
        {
            await AnswerAgainAsync(context, existing, body, fingerprint, cancellationToken);
            return;
        }

        var record = new IdempotencyRecord { UserId = userId, Key = key, Fingerprint = "", CreatedAt = now };
        db.IdempotencyRecords.Add(record);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another request with this key was inserted between the look-up and this insert.
            await InFlightAsync(context);
            return;
        }

        await RunAndStoreAsync(context, db, record.Id, body, fingerprint, cancellationToken);
    }

    /// <summary>The record of this key, unless it has expired or its first request died holding it (then it is deleted).</summary>
    private static async Task<IdempotencyRecord?> FindLiveAsync(AppDbContext db, long userId, string key, DateTime now, CancellationToken cancellationToken)
    {
        var existing = await db.IdempotencyRecords.AsNoTracking().FirstOrDefaultAsync(r => r.UserId == userId && r.Key == key, cancellationToken);
        if (existing is not null && (existing.CreatedAt <= now - Lifetime || (existing.Status is null && existing.CreatedAt <= now - InFlightLease)))
        {
            await db.IdempotencyRecords.Where(r => r.Id == existing.Id && r.CreatedAt == existing.CreatedAt).ExecuteDeleteAsync(cancellationToken);
            return null;
        }

        return existing;
    }

    /// <summary>A repeat of a finished request: the stored answer if it is the same request, 422 if the key is reused for another.</summary>
    private static async Task AnswerAgainAsync(HttpContext context, IdempotencyRecord existing, FingerprintingStream body, RequestFingerprint fingerprint, CancellationToken cancellationToken)
    {
        await body.DrainAsync(cancellationToken);
        if (fingerprint.Finish() != existing.Fingerprint)
        {
            await WriteProblemAsync(context, StatusCodes.Status422UnprocessableEntity, "Idempotency-Key reused.",
                "This Idempotency-Key was already used in the last 24 hours for a different request (another body or route); send a new key for a new request.",
                ReusedType);
            return;
        }

        await ReplayAsync(context, existing);
    }

    /// <summary>The first request with this key: runs it, and stores its answer when it succeeded; otherwise frees the key.</summary>
    private async Task RunAndStoreAsync(HttpContext context, AppDbContext db, long recordId, FingerprintingStream body, RequestFingerprint fingerprint, CancellationToken cancellationToken)
    {
        var originalRequestBody = context.Request.Body;
        var originalResponseBody = context.Response.Body;
        await using var capture = new CapturingStream(originalResponseBody, MaxStoredBodyBytes);
        context.Request.Body = body;
        context.Response.Body = capture;
        var stored = false;
        try
        {
            await next(context);
            if (context.Response.StatusCode is >= 200 and < 300 && capture.Complete)
            {
                await body.DrainAsync(cancellationToken);
                var status = context.Response.StatusCode;
                var contentType = context.Response.ContentType;
                var location = context.Response.Headers.Location.ToString();
                var captured = capture.Captured;
                var print = fingerprint.Finish();
                stored = await db.IdempotencyRecords.Where(r => r.Id == recordId).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Status, status)
                    .SetProperty(r => r.ContentType, contentType)
                    .SetProperty(r => r.Location, location.Length > 0 ? location : null)
                    .SetProperty(r => r.Body, captured)
                    .SetProperty(r => r.Fingerprint, print), CancellationToken.None) == 1;
            }
        }
        finally
        {
            context.Request.Body = originalRequestBody;
            context.Response.Body = originalResponseBody;
            if (!stored)
            {
                await ReleaseAsync(db, recordId);
            }
        }
    }

    /// <summary>The routes the header applies to, by their route pattern.</summary>
    private static bool Applies(HttpContext context)
    {
        var pattern = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText?.TrimEnd('/');
        return (HttpMethods.IsPost(context.Request.Method) && pattern == "/api/tasks")
            || (HttpMethods.IsPut(context.Request.Method) && pattern == "/api/tasks/{id:long}");
    }

    private static async Task ReplayAsync(HttpContext context, IdempotencyRecord record)
    {
        var response = context.Response;
        response.StatusCode = record.Status!.Value;
        if (record.ContentType is not null)
        {
            response.ContentType = record.ContentType;
        }

        if (record.Location is not null)
        {
            response.Headers.Location = record.Location;
        }

        response.Headers[ReplayedHeader] = "true";
        if (record.Body is { Length: > 0 } body)
        {
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    private static Task InFlightAsync(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "1";
        return WriteProblemAsync(context, StatusCodes.Status409Conflict, "Conflict.",
            "A request with this Idempotency-Key is still being processed; wait for its answer, then retry with the same key to get it.",
            Problems.ConflictType);
    }

    private async Task ReleaseAsync(AppDbContext db, long recordId)
    {
        try
        {
            await db.IdempotencyRecords.Where(r => r.Id == recordId).ExecuteDeleteAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The key stays held until its lease ends; the request's own outcome matters more.
            LogReleaseFailed(logger, recordId, e.Message);
        }
    }

    private static Task WriteProblemAsync(HttpContext context, int status, string title, string detail, string type)
    {
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = Problems.Details(status, title, detail, type),
        }).AsTask();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing idempotency record {RecordId} failed; it expires with its lease: {Reason}")]
    private static partial void LogReleaseFailed(ILogger logger, long recordId, string reason);
}

public static class IdempotencyExtensions
{
    public static IApplicationBuilder UseIdempotency(this IApplicationBuilder app) => app.UseMiddleware<IdempotencyMiddleware>();
}
