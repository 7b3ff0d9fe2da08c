using Microsoft.IdentityModel.JsonWebTokens;
using System.Security.Claims;
using AudioConverter.Core.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AudioConverter.Server.Auth;

/// <summary>Issues signed JWTs carrying the user id.</summary>
public sealed class TokenService(IOptions<AuthOptions> options, SymmetricSecurityKey key, TimeProvider clock)
{
    private readonly JsonWebTokenHandler handler = new();

    public (string Token, DateTime ExpiresAt) Issue(User user)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var expires = now + options.Value.TokenLifetime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = expires,
            Subject = new ClaimsIdentity([
                new Claim(JwtRegisteredClaimNames.Sub, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(JwtRegisteredClaimNames.UniqueName, user.Username),
                new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")),
            ]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        };
        return (handler.CreateToken(descriptor), expires);
    }

}
