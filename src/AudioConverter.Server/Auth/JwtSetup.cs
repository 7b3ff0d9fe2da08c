using AudioConverter.Core.Users;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AudioConverter.Server.Auth;

/// <summary>Bearer authentication, a login's JWT or an API key (picked by the ack_ prefix). JWTs: HS256 only, checked issuer, audience and expiry, 401 problem bodies that say what was wrong.</summary>
public static class JwtSetup
{
    public const string BearerOrKey = "BearerOrKey";

    /// <summary>Authentication by JWT or API key, and the limits on logins and signups. Needs the Auth and RateLimits settings.</summary>
    public static IServiceCollection AddTokenAuthentication(this IServiceCollection services)
    {
        services.AddSingleton(provider => SigningKeyProvider.Load(provider.GetRequiredService<IOptions<AuthOptions>>().Value));
        services.AddSingleton<TokenService>();
        services.AddSingleton<AuthAttemptLimiter>();
        services.AddSingleton(provider => new PasswordHashGate(provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();

        // One default scheme that picks by the token's prefix: API keys (ack_...) or JWTs.
        var authentication = services.AddAuthentication(BearerOrKey);
        authentication.AddPolicyScheme(BearerOrKey, "JWT or API key", policy => policy.ForwardDefaultSelector = context =>
            ApiKeyAuthenticationHandler.IsApiKey(context.Request.Headers.Authorization) ? ApiKeyAuthenticationHandler.SchemeName : JwtBearerDefaults.AuthenticationScheme);
        authentication.AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<IOptions<AuthOptions>, SymmetricSecurityKey>((jwt, auth, key) =>
            jwt.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = auth.Value.Issuer,
                ValidAudience = auth.Value.Audience,
                IssuerSigningKey = key,
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ClockSkew = TimeSpan.FromSeconds(30),
            });
        authentication.AddJwtBearer(jwt =>
        {
            jwt.MapInboundClaims = false;
            jwt.Events = new JwtBearerEvents
            {
                OnChallenge = async context =>
                {
                    context.HandleResponse();
                    var detail = context.AuthenticateFailure switch
                    {
                        SecurityTokenExpiredException => "The token has expired; log in again.",
                        not null => "The token is not valid; log in again to get a new one.",
                        null when string.IsNullOrEmpty(context.Request.Headers.Authorization) => "This route needs 'Authorization: Bearer <token>'; log in to get a token.",
                        _ => "The Authorization header must be 'Bearer <token>'.",
                    };
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                    await problems.WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context.HttpContext,
                        ProblemDetails = Problems.Details(StatusCodes.Status401Unauthorized, "Unauthorized.", detail, Problems.UnauthorizedType),
                    });
                },
            };
        });
        // A token validated once is not validated again on each request until it expires (ValidatedTokenCache).
        services.AddSingleton(provider => new ValidatedTokenCache(provider.GetRequiredService<TimeProvider>()));
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<ValidatedTokenCache>((jwt, cache) =>
        {
            jwt.TokenHandlers.Clear();
            jwt.TokenHandlers.Add(new CachingJsonWebTokenHandler(cache) { MapInboundClaims = false });
        });
        services.AddAuthorization();
        return services;
    }
}
