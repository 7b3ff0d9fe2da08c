using System.Net.Mail;
using AudioConverter.Core.Users;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Notifications;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Notifications;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Auth;

public static class AuthEndpoints
{
    public static RouteGroupBuilder MapAuthEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/auth").WithTags("Accounts").AllowAnonymous().AddEndpointFilter(LimitAttemptsAsync);
        group.MapPost("/signup", SignupAsync)
            .Accepts<SignupRequest>("application/json")
            .WithSummary("Create an account");
        group.MapPost("/login", LoginAsync)
            .Accepts<LoginRequest>("application/json")
            .WithSummary("Exchange a username (or e-mail) and password for a bearer token");
        return group;
    }

    /// <summary>Refuses a client whose window is full, and counts its signups and failed logins.</summary>
    private static async ValueTask<object?> LimitAttemptsAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var limiter = context.RequestServices.GetRequiredService<AuthAttemptLimiter>();
        var client = AuthAttemptLimiter.ClientKey(context);
        if (limiter.RetryAfter(client) is { } wait)
        {
            return Problems.TooManyRequests(context.Response, $"Too many failed logins or signups from this address; try again in {Math.Ceiling(wait.TotalSeconds)} seconds.", wait);
        }

        var result = await next(invocation);
        var status = result is INestedHttpResult nested ? (nested.Result as IStatusCodeHttpResult)?.StatusCode : (result as IStatusCodeHttpResult)?.StatusCode;
        var isSignup = context.Request.Path.Value?.EndsWith("/signup", StringComparison.OrdinalIgnoreCase) == true;
        if (isSignup || status is >= 400 and < 500)
        {
            limiter.Count(client);
        }

        return result;
    }

    private static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> SignupAsync(
        HttpRequest request, AppDbContext db, IPasswordHasher<User> hasher, NotificationOptions mail, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestJson.ReadAsync<SignupRequest>(request, cancellationToken);
        if (body is null)
        {
            return Problems.Validation("body", error!);
        }

        var username = (body.Username ?? body.User)?.Trim();
        var email = body.Email?.Trim();
        var errors = ValidateSignup(username, email, body.Password1, body.Password2);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var normalizedUsername = AppDbContext.Normalize(username!);
        var normalizedEmail = AppDbContext.Normalize(email!);
        var taken = await db.Users
            .Where(u => EF.Property<string>(u, "NormalizedUsername") == normalizedUsername || EF.Property<string>(u, "NormalizedEmail") == normalizedEmail)
            .Select(u => new { Username = EF.Property<string>(u, "NormalizedUsername"), Email = EF.Property<string>(u, "NormalizedEmail") })
            .ToListAsync(cancellationToken);
        if (taken.Count > 0)
        {
            return Problems.Conflict(taken.Any(t => t.Username == normalizedUsername)
                ? $"The username '{username}' is already taken."
                : $"An account with the e-mail '{email}' already exists.");
        }

        var user = new User { Username = username!, Email = email!, PasswordHash = "", CreatedAt = clock.GetUtcNow().UtcDateTime };
        user.PasswordHash = hasher.HashPassword(user, body.Password1!);
        db.Users.Add(user);
        db.SetNormalizedNames(user);
        try
        {
            // With mail configured, the verification link joins the outbox in the same transaction.
            await AccountEndpoints.SaveWithVerificationAsync(db, user, mail, request, clock, cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two signups raced for the same name; the unique index decided.
            return Problems.Conflict($"The username '{username}' or the e-mail '{email}' is already taken.");
        }

        return TypedResults.Created($"/api/users/{user.Id}", new UserResponse(user.Id, user.Username, user.Email, user.CreatedAt));
    }

    private static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> LoginAsync(
        HttpRequest request, AppDbContext db, IPasswordHasher<User> hasher, TokenService tokens, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestJson.ReadAsync<LoginRequest>(request, cancellationToken);
        if (body is null)
        {
            return Problems.Validation("body", error!);
        }

        var identifier = (body.Username ?? body.Email)?.Trim();
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(identifier))
        {
            errors["username"] = ["Give your username or e-mail."];
        }

        if (string.IsNullOrEmpty(body.Password))
        {
            errors["password"] = ["Give your password."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var normalized = AppDbContext.Normalize(identifier!);
        var user = await db.Users.AsNoTracking()
            .FirstOrDefaultAsync(u => EF.Property<string>(u, "NormalizedUsername") == normalized || EF.Property<string>(u, "NormalizedEmail") == normalized, cancellationToken);

        // Verify against a dummy hash for unknown users so both failures take the same time.
        var verified = hasher.VerifyHashedPassword(user ?? DummyUser, user?.PasswordHash ?? DummyHash(hasher), body.Password!);
        if (user is null || verified == PasswordVerificationResult.Failed)
        {
            return Problems.Unauthorized("The username or password is wrong.");
        }

        var (token, expiresAt) = tokens.Issue(user);
        return TypedResults.Ok(new TokenResponse(token, "Bearer", expiresAt));
    }

    private static Dictionary<string, string[]> ValidateSignup(string? username, string? email, string? password1, string? password2)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(username))
        {
            errors["username"] = ["Choose a username."];
        }
        else if (username.Length > 64 || username.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)) || username.Contains('@', StringComparison.Ordinal))
        {
            errors["username"] = ["A username is 1 to 64 characters with no spaces, control characters or '@'."];
        }

        if (string.IsNullOrEmpty(email))
        {
            errors["email"] = ["Give an e-mail address."];
        }
        else if (!IsEmail(email))
        {
            errors["email"] = [$"'{email}' is not a valid e-mail address."];
        }

        if (string.IsNullOrEmpty(password1))
        {
            errors["password1"] = ["Choose a password."];
        }
        else if (password1.Length < 8)
        {
            errors["password1"] = ["The password must be at least 8 characters long."];
        }
        else if (password1.Length > 512)
        {
            errors["password1"] = ["The password must be at most 512 characters long."];
        }

        if (string.IsNullOrEmpty(password2))
        {
            errors["password2"] = ["Repeat the password."];
        }
        else if (password1 is not null && password1 != password2)
        {
            errors["password2"] = ["The two passwords differ."];
        }

        return errors;
    }

    private static bool IsEmail(string email)
    {
        if (email.Length > 254 || email.Any(char.IsWhiteSpace) || email.Count(c => c == '@') != 1)
        {
            return false;
        }

        try
        {
            var address = new MailAddress(email);
            return address.Address == email && address.Host.Contains('.', StringComparison.Ordinal);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static readonly User DummyUser = new() { Username = "", Email = "", PasswordHash = "" };
    private static string? dummyHash;

    private static string DummyHash(IPasswordHasher<User> hasher) => dummyHash ??= hasher.HashPassword(DummyUser, Guid.NewGuid().ToString());
}
