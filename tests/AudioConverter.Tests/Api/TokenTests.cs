using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using AudioConverter.Tests.Fixtures;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AudioConverter.Tests.Api;

/// <summary>Tokens that are expired or signed with another key open nothing: 401 with a problem body.</summary>
public sealed class TokenTests(SharedApp app) : IClassFixture<SharedApp>
{
    [Fact]
    public async Task AnExpiredTokenIs401SayingItExpired()
    {
        var key = new SymmetricSecurityKey(Convert.FromBase64String(File.ReadAllText(Path.Combine(app.Factory.DataDirectory, "jwt.key"))));
        var token = Token(key, DateTime.UtcNow.AddHours(-3), DateTime.UtcNow.AddHours(-2));

        var response = await SendAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("expired", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokenSignedWithAnotherKeyIs401()
    {
        var forged = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(64));
        var token = Token(forged, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1));

        var response = await SendAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("not valid", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokenWithTheRightKeyButAnotherAudienceIs401()
    {
        var key = new SymmetricSecurityKey(Convert.FromBase64String(File.ReadAllText(Path.Combine(app.Factory.DataDirectory, "jwt.key"))));
        var token = Token(key, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1), audience: "SomeoneElse");

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(token)).StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(string token)
    {
        var client = app.Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.GetAsync("/api/tasks");
    }

    private static string Token(SecurityKey key, DateTime notBefore, DateTime expires, string audience = "AudioConverter") =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "AudioConverter",
            Audience = audience,
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            Subject = new ClaimsIdentity([new Claim("sub", "1")]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
}
