using System.Security.Claims;
using System.Security.Cryptography;
using AudioConverter.Server.Auth;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AudioConverter.Tests.Unit;

/// <summary>The kept validations of login tokens: found until they would be refused as expired, copies per request, bounded.</summary>
[Trait("Layer", "Unit")]
public sealed class ValidatedTokenCacheTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider clock = new(Start);

    [Fact]
    public void AKeptTokenIsFoundUntilItsExpiryAndNotAfter()
    {
        var cache = new ValidatedTokenCache(clock);
        cache.Keep("token-a", Identity("7"), new JsonWebToken(UnsignedToken()), Start.AddMinutes(10));

        Assert.Equal("7", cache.Find("token-a")?.Identity.FindFirst("sub")?.Value);
        clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        Assert.NotNull(cache.Find("token-a"));

        clock.Advance(TimeSpan.FromTicks(1));
        Assert.Null(cache.Find("token-a"));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void OnlyTheExactTokenTextIsFound()
    {
        var cache = new ValidatedTokenCache(clock);
        cache.Keep("token-a", Identity("7"), new JsonWebToken(UnsignedToken()), Start.AddMinutes(10));

        Assert.Null(cache.Find("token-A"));
        Assert.Null(cache.Find("token-a "));
        Assert.Null(cache.Find(""));
    }

    [Fact]
    public void ATokenAlreadyExpiredIsNotKept()
    {
        var cache = new ValidatedTokenCache(clock);
        cache.Keep("token-a", Identity("7"), new JsonWebToken(UnsignedToken()), Start);

        Assert.Null(cache.Find("token-a"));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void EachRequestGetsItsOwnCopyOfTheIdentity()
    {
        var cache = new ValidatedTokenCache(clock);
        var original = Identity("7");
        cache.Keep("token-a", original, new JsonWebToken(UnsignedToken()), Start.AddMinutes(10));
        original.AddClaim(new Claim("added", "after keeping"));

        var first = cache.Find("token-a")!.Value.Identity;
        first.AddClaim(new Claim("added", "by a request"));
        var second = cache.Find("token-a")!.Value.Identity;

        Assert.NotSame(first, second);
        Assert.Null(second.FindFirst("added"));
    }

    [Fact]
    public void WhenFullExpiredTokensMakeRoomAndLiveOnesAreNotPushedOut()
    {
        var cache = new ValidatedTokenCache(clock, capacity: 2);
        var token = new JsonWebToken(UnsignedToken());
        cache.Keep("short", Identity("1"), token, Start.AddMinutes(1));
        cache.Keep("long", Identity("2"), token, Start.AddMinutes(30));

        // Full of live tokens: the third is not kept (it is validated each time), the two kept stay.
        cache.Keep("third", Identity("3"), token, Start.AddMinutes(30));
        Assert.Null(cache.Find("third"));
        Assert.NotNull(cache.Find("short"));

        // Once one has expired, it makes room.
        clock.Advance(TimeSpan.FromMinutes(2));
        cache.Keep("third", Identity("3"), token, Start.AddMinutes(30));
        Assert.Equal("3", cache.Find("third")?.Identity.FindFirst("sub")?.Value);
        Assert.NotNull(cache.Find("long"));
        Assert.Null(cache.Find("short"));
    }

    [Fact]
    public async Task TheHandlerKeepsOnlyTokensThatPassValidation()
    {
        var key = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(64));
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = "AudioConverter",
            ValidAudience = "AudioConverter",
            IssuerSigningKey = key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.FromSeconds(30),
        };

        // The token library checks lifetimes against the system clock, so these tokens are dated from it.
        var now = DateTime.UtcNow;
        var cache = new ValidatedTokenCache(new FakeTimeProvider(new DateTimeOffset(now)));
        var handler = new CachingJsonWebTokenHandler(cache) { MapInboundClaims = false };
        var good = Sign(key, now.AddMinutes(30));
        var forged = Sign(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(64)), now.AddMinutes(30));

        var refused = await handler.ValidateTokenAsync(forged, parameters);
        Assert.False(refused.IsValid);
        Assert.IsAssignableFrom<SecurityTokenInvalidSignatureException>(refused.Exception);
        Assert.Equal(0, cache.Count);
        Assert.False((await handler.ValidateTokenAsync(forged, parameters)).IsValid);

        var first = await handler.ValidateTokenAsync(good, parameters);
        Assert.True(first.IsValid);
        Assert.Equal(1, cache.Count);

        var again = await handler.ValidateTokenAsync(good, parameters);
        Assert.True(again.IsValid);
        Assert.Equal("42", again.ClaimsIdentity.FindFirst("sub")?.Value);
        Assert.NotSame(first.ClaimsIdentity, again.ClaimsIdentity);
        Assert.Equal(((JsonWebToken)first.SecurityToken).ValidTo, ((JsonWebToken)again.SecurityToken).ValidTo);
    }

    private static ClaimsIdentity Identity(string userId) => new([new Claim("sub", userId)], "Bearer");

    private static string UnsignedToken() => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor { Subject = Identity("7") });

    private static string Sign(SecurityKey key, DateTime expires) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "AudioConverter",
        Audience = "AudioConverter",
        IssuedAt = expires.AddMinutes(-60),
        NotBefore = expires.AddMinutes(-60),
        Expires = expires,
        Subject = Identity("42"),
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
    });
}
