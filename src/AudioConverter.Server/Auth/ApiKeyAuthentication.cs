using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AudioConverter.Server.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer ack_...</c>: the key's SHA-256 is looked up, revoked and expired keys are refused
/// with a sentence saying so, and the principal carries the user id (<c>sub</c>, as a JWT does) and one <c>scope</c> claim per scope.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, AppDbContext db, TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Prefix = "ack_";
    public const string ScopeClaim = "scope";
    public const string MethodClaim = "amr";
    public const string MethodValue = "api_key";

    /// <summary>32 random bytes in base64url without padding.</summary>
    public const int SecretLength = 43;

    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);
    private string? failure;

    /// <summary>True when the Authorization header carries an API key rather than a JWT.</summary>
    public static bool IsApiKey(string? authorization) =>
        authorization is not null && authorization.StartsWith("Bearer " + Prefix, StringComparison.Ordinal);

    public static string NewKey() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? authorization = Request.Headers.Authorization;
        if (!IsApiKey(authorization))
        {
            return AuthenticateResult.NoResult();
        }

        var key = authorization!["Bearer ".Length..].Trim();
        if (key.Length != Prefix.Length + SecretLength || !key.AsSpan(Prefix.Length).ContainsOnlyBase64Url())
        {
            return Fail($"The API key is incomplete or mistyped: a key is '{Prefix}' and {SecretLength} more letters, digits, '-' or '_'. Copy the whole key.");
        }

        var hash = HashOf(key);
        var apiKey = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Hash == hash, Context.RequestAborted);
        var now = clock.GetUtcNow().UtcDateTime;
        if (apiKey is null)
        {
            return Fail("The API key is not known; check it, or create a new one with POST /api/keys.");
        }

        if (apiKey.RevokedAt is not null)
        {
            return Fail($"The API key '{apiKey.Name}' was revoked; create a new one with POST /api/keys.");
        }

        if (apiKey.ExpiresAt is { } expires && expires <= now)
        {
            return Fail($"The API key '{apiKey.Name}' expired at {DateTime.SpecifyKind(expires, DateTimeKind.Utc):u}; create a new one with POST /api/keys.");
        }

        // One write per key per minute at most, whichever process sees the key: the condition is in the UPDATE.
        if (apiKey.LastUsedAt is null || apiKey.LastUsedAt <= now - LastUsedResolution)
        {
            var threshold = now - LastUsedResolution;
            await db.ApiKeys.Where(k => k.Id == apiKey.Id && (k.LastUsedAt == null || k.LastUsedAt <= threshold))
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), Context.RequestAborted);
        }

        List<Claim> claims =
        [
            new(JwtRegisteredClaimNames.Sub, apiKey.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(MethodClaim, MethodValue),
            new("key_id", apiKey.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            .. apiKey.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => new Claim(ScopeClaim, s)),
        ];
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, JwtRegisteredClaimNames.UniqueName, null)), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var problems = Context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = Problems.Details(StatusCodes.Status401Unauthorized, "Unauthorized.", failure ?? "The API key is not valid.", Problems.UnauthorizedType),
        });
    }

    private AuthenticateResult Fail(string message)
    {
        failure = message;
        return AuthenticateResult.Fail(message);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

internal static class Base64UrlSpan
{
    public static bool ContainsOnlyBase64Url(this ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}
