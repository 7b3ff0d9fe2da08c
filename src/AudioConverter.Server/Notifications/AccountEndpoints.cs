using AudioConverter.Core.Users;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Notifications;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Notifications;

/// <summary>The caller's account (GET/PATCH/PUT /api/me) and the e-mail verification link (GET /api/auth/verify).</summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder routes)
    {
        var me = routes.MapGroup("/api/me").WithTags("Accounts").RequireAuthorization();
        me.MapGet("/", GetAsync).WithSummary("The caller's account: e-mail and whether it is verified, the notification setting, storage used");
        me.MapMethods("/", ["PATCH", "PUT"], UpdateAsync).Accepts<AccountUpdate>("application/json").WithSummary("Turn e-mail notifications on or off");
        me.MapPost("/verification", ResendAsync).WithSummary("Send the verification link again");
        routes.MapGet("/api/auth/verify", VerifyAsync).WithTags("Accounts").AllowAnonymous().WithSummary("Confirm an e-mail address with the token from the verification link");
        return routes;
    }

    /// <summary>
    /// Saves a new account and, when mail is configured, its verification e-mail in one transaction: the message is in
    /// the outbox before the signup answers, and a restart before the send only delays it.
    /// </summary>
    public static async Task SaveWithVerificationAsync(AppDbContext db, User user, NotificationOptions mail, HttpRequest request, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!mail.Enabled)
        {
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        var token = VerificationMail.NewToken();
        user.EmailVerificationHash = VerificationMail.Hash(token);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        db.Outbox.Add(VerificationMail.Message(user, token, BaseUrl(mail, request), clock.GetUtcNow().UtcDateTime));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static string BaseUrl(NotificationOptions mail, HttpRequest request) =>
        mail.BaseUrl.Length > 0 ? mail.BaseUrl : $"{request.Scheme}://{request.Host}";

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> GetAsync(CurrentUser current, AppDbContext db, Microsoft.Extensions.Options.IOptions<Tasks.UploadOptions> uploads, CancellationToken cancellationToken)
    {
        var userId = current.Id;
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null)
        {
            return Problems.NotFound("account");
        }

        var used = await db.Tasks.Where(t => t.UserId == userId).SumAsync(t => t.InputBytes + (t.OutputBytes ?? 0), cancellationToken);
        // 0 means no limit, shown as none.
        var quota = uploads.Value.MaxStoredBytesPerUser is > 0 and var limit ? limit : (long?)null;
        return TypedResults.Ok(AccountResponse.From(user, used, quota));
    }

    private static async Task<Results<Ok<AccountResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        CurrentUser user, HttpContext context, AppDbContext db, Microsoft.Extensions.Options.IOptions<Tasks.UploadOptions> uploads, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestJson.ReadAsync<AccountUpdate>(context.Request, cancellationToken);
        if (body is null)
        {
            return Problems.Validation("body", error!);
        }

        if (body.Notifications is null)
        {
            return Problems.Validation("notifications", "Send {\"notifications\": true} or {\"notifications\": false}.");
        }

        var userId = user.Id;
        var changed = await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(u => u.SetProperty(x => x.NotificationsEnabled, body.Notifications.Value), cancellationToken);
        return changed == 0 ? Problems.NotFound("account") : (await GetAsync(user, db, uploads, cancellationToken)).Result switch
        {
            Ok<AccountResponse> ok => ok,
            ProblemHttpResult problem => problem,
            _ => Problems.NotFound("account"),
        };
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> ResendAsync(
        CurrentUser current, HttpContext context, AppDbContext db, NotificationOptions mail, TimeProvider clock, CancellationToken cancellationToken)
    {
        var userId = current.Id;
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null)
        {
            return Problems.NotFound("account");
        }

        if (user.EmailVerifiedAt is not null)
        {
            return Problems.Conflict($"The address {user.Email} is already verified.");
        }

        if (!mail.Enabled)
        {
            return TypedResults.Problem("This service sends no e-mail (no SMTP server is configured), so there is nothing to verify.", statusCode: StatusCodes.Status409Conflict, title: "Conflict.", type: Problems.ConflictType);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var recent = await db.Outbox.AnyAsync(m => m.UserId == userId && m.Type == VerificationMail.Type && m.CreatedAt > now.AddMinutes(-1), cancellationToken);
        if (recent)
        {
            return Problems.TooManyRequests(context.Response, "A verification link was sent less than a minute ago; check your mailbox, or ask again in a minute.", TimeSpan.FromMinutes(1));
        }

        var token = VerificationMail.NewToken();
        user.EmailVerificationHash = VerificationMail.Hash(token);
        db.Outbox.Add(VerificationMail.Message(user, token, BaseUrl(mail, context.Request), now));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted("/api/me");
    }

    private static async Task<Results<Ok<VerifiedResponse>, ValidationProblem, ProblemHttpResult>> VerifyAsync(
        string? token, AppDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length != 64 || !token.All(char.IsAsciiHexDigitLower))
        {
            return Problems.Validation("token", "The verification token is missing or malformed; open the link from the e-mail exactly as it was sent.");
        }

        var hash = VerificationMail.Hash(token);
        var now = clock.GetUtcNow().UtcDateTime;
        var user = await db.Users.FirstOrDefaultAsync(u => u.EmailVerificationHash == hash, cancellationToken);
        if (user is null)
        {
            return TypedResults.Problem("This verification link is not valid, or was already used, or a newer one was sent; sign in and ask for a new one (POST /api/me/verification).", statusCode: StatusCodes.Status404NotFound, title: "Not found.", type: Problems.NotFoundType);
        }

        user.EmailVerifiedAt = now;
        user.EmailVerificationHash = null;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new VerifiedResponse(user.Email, true));
    }
}

public sealed record AccountUpdate(bool? Notifications);

public sealed record VerifiedResponse(string Email, bool Verified);

public sealed record StorageUse(long UsedBytes, long? QuotaBytes);

public sealed record AccountResponse(long Id, string Username, string Email, bool EmailVerified, DateTime? EmailVerifiedAt, bool Notifications, DateTime CreatedAt, StorageUse Storage)
{
    public static AccountResponse From(User user, long usedBytes, long? quotaBytes) => new(
        user.Id,
        user.Username,
        user.Email,
        user.EmailVerifiedAt is not null,
        user.EmailVerifiedAt is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null,
        user.NotificationsEnabled,
        DateTime.SpecifyKind(user.CreatedAt, DateTimeKind.Utc),
        new StorageUse(usedBytes, quotaBytes));
}
