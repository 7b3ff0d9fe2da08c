using AudioConverter.Core.Users;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Keys;

public sealed record CreateKeyRequest(string? Name, IReadOnlyList<string>? Scopes, DateTimeOffset? ExpiresAt);

/// <summary>A key as listed: never the key itself, only its first characters.</summary>
public sealed record KeyResponse(long Id, string Name, IReadOnlyList<string> Scopes, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt, DateTime? LastUsedAt)
{
    public static KeyResponse From(ApiKey key) => new(
        key.Id, key.Name, key.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), key.Prefix, Utc(key.CreatedAt), Utc(key.ExpiresAt), Utc(key.RevokedAt), Utc(key.LastUsedAt));

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

    private static DateTime? Utc(DateTime? value) => value is null ? null : Utc(value.Value);
}

/// <summary>The answer to a creation: the one and only time the key is shown.</summary>
public sealed record CreatedKeyResponse(long Id, string Name, IReadOnlyList<string> Scopes, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt, string Key);

/// <summary>/api/keys: create (the key shown once), list (with when each was last used), revoke. A login token is needed; a key cannot manage keys.</summary>
public static class KeyEndpoints
{
    public const int MaxActiveKeys = 50;

    public static RouteGroupBuilder MapKeyEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/keys").WithTags("API keys").RequireAuthorization();
        group.MapPost("/", CreateAsync).Accepts<CreateKeyRequest>("application/json").WithSummary("Create an API key; the key is in this answer only");
        group.MapGet("/", ListAsync).WithSummary("The caller's API keys, with when each was last used (to the minute)");
        group.MapDelete("/{id:long}", RevokeAsync).WithSummary("Revoke an API key; it is refused from then on");
        return group;
    }

    private static async Task<Results<Created<CreatedKeyResponse>, ValidationProblem>> CreateAsync(
        HttpRequest request, CurrentUser user, AppDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestJson.ReadAsync<CreateKeyRequest>(request, cancellationToken);
        if (body is null)
        {
            return Problems.Validation("body", error!);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var errors = new Dictionary<string, string[]>();
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100)
        {
            errors["name"] = ["Give the key a name of 1 to 100 characters, e.g. the program that will use it."];
        }

        var scopes = body.Scopes?.Select(s => s?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToList() ?? [];
        if (scopes.Count == 0)
        {
            errors["scopes"] = [$"Give the key at least one scope: {string.Join(", ", ApiKeyScopes.All)}."];
        }
        else if (scopes.FirstOrDefault(s => !ApiKeyScopes.All.Contains(s)) is { } unknown)
        {
            errors["scopes"] = [$"'{unknown}' is not a scope; choose from {string.Join(", ", ApiKeyScopes.All)}."];
        }

        if (body.ExpiresAt is { } expiresAt && expiresAt.UtcDateTime <= now)
        {
            errors["expiresAt"] = ["'expiresAt' must be in the future (an ISO 8601 time, e.g. 2030-01-01T00:00:00Z), or left out for a key that does not expire."];
        }

        var userId = user.Id;
        if (errors.Count == 0 && await db.ApiKeys.CountAsync(k => k.UserId == userId && k.RevokedAt == null, cancellationToken) >= MaxActiveKeys)
        {
            errors["name"] = [$"This account already has {MaxActiveKeys} keys; revoke one it no longer needs first."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var secret = ApiKeyAuthenticationHandler.NewKey();
        var key = new ApiKey
        {
            UserId = userId,
            Name = name!,
            Prefix = secret[..(ApiKeyAuthenticationHandler.Prefix.Length + 4)],
            Hash = ApiKeyAuthenticationHandler.HashOf(secret),
            Scopes = string.Join(' ', ApiKeyScopes.All.Where(scopes.Contains)),
            CreatedAt = now,
            ExpiresAt = body.ExpiresAt?.UtcDateTime,
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        var shown = KeyResponse.From(key);
        return TypedResults.Created($"/api/keys/{key.Id}", new CreatedKeyResponse(key.Id, key.Name, shown.Scopes, key.Prefix, shown.CreatedAt, shown.ExpiresAt, secret));
    }

    private static async Task<Ok<List<KeyResponse>>> ListAsync(CurrentUser user, AppDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.Id;
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId).OrderBy(k => k.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(keys.Select(KeyResponse.From).ToList());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(long id, CurrentUser user, AppDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var userId = user.Id;
        var now = clock.GetUtcNow().UtcDateTime;
        if (!await db.ApiKeys.AnyAsync(k => k.Id == id && k.UserId == userId, cancellationToken))
        {
            return Problems.NotFound("API key");
        }

        await db.ApiKeys.Where(k => k.Id == id && k.UserId == userId && k.RevokedAt == null).ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken);
        return TypedResults.NoContent();
    }
}
