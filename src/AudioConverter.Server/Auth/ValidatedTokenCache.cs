using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AudioConverter.Server.Auth;

/// <summary>
/// Login tokens that already passed validation, keyed by the exact token text, until the moment validation would
/// refuse them as expired (their <c>exp</c> plus the allowed clock skew). A client sends the same token on every
/// request; checking its signature, issuer, audience and lifetime once instead of on each one is most of what a
/// bearer token costs. Only successes are kept: a token refused (bad signature, not yet valid, expired) is checked
/// again each time. Tokens cannot be revoked before they expire (a logout forgets the token in the client), so a
/// kept success answers exactly as validating again would. At most <see cref="Capacity"/> tokens are kept; when full,
/// expired ones are dropped, and a new token is validated without being kept until there is room.
/// </summary>
public sealed class ValidatedTokenCache(TimeProvider clock, int capacity = ValidatedTokenCache.DefaultCapacity)
{
    public const int DefaultCapacity = 10_000;

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    public int Capacity => capacity;

    public int Count => entries.Count;

    /// <summary>The identity of a kept token that has not expired yet, as a copy the caller may change; null otherwise.</summary>
    public (ClaimsIdentity Identity, SecurityToken Token)? Find(string token)
    {
        if (!entries.TryGetValue(token, out var entry))
        {
            return null;
        }

        if (clock.GetUtcNow() >= entry.Until)
        {
            entries.TryRemove(KeyValuePair.Create(token, entry));
            return null;
        }

        return (entry.Identity.Clone(), entry.Token);
    }

    /// <summary>Keeps a token that has just passed validation, until <paramref name="until"/> (when validation would call it expired).</summary>
    public void Keep(string token, ClaimsIdentity identity, SecurityToken validated, DateTimeOffset until)
    {
        var now = clock.GetUtcNow();
        if (until <= now)
        {
            return;
        }

        if (entries.Count >= capacity)
        {
            foreach (var (key, entry) in entries)
            {
                if (entry.Until <= now)
                {
                    entries.TryRemove(KeyValuePair.Create(key, entry));
                }
            }

            if (entries.Count >= capacity)
            {
                return;
            }
        }

        // A copy, so that nothing a request does to its principal's identity reaches the next request's.
        entries[token] = new Entry(identity.Clone(), validated, until);
    }

    private sealed record Entry(ClaimsIdentity Identity, SecurityToken Token, DateTimeOffset Until);
}

/// <summary>
/// The JWT handler of the bearer scheme, with <see cref="ValidatedTokenCache"/> in front: a token seen before and
/// not yet expired gets its kept identity; any other is validated by <see cref="JsonWebTokenHandler"/> as before, and
/// kept when it passes. The validation parameters are the scheme's, fixed at startup, so a kept answer stays right.
/// </summary>
public sealed class CachingJsonWebTokenHandler(ValidatedTokenCache cache) : JsonWebTokenHandler
{
    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (cache.Find(token) is { } kept)
        {
            return new TokenValidationResult { IsValid = true, ClaimsIdentity = kept.Identity, SecurityToken = kept.Token, Issuer = kept.Token.Issuer };
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result is { IsValid: true, SecurityToken: JsonWebToken { ValidTo: var expires } validated } && expires != DateTime.MinValue)
        {
            cache.Keep(token, result.ClaimsIdentity, validated, new DateTimeOffset(DateTime.SpecifyKind(expires, DateTimeKind.Utc)) + validationParameters.ClockSkew);
        }

        return result;
    }
}
