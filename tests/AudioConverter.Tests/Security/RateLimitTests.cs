using System.Net;
using System.Net.Http.Json;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Security;

public sealed class RateLimitTests
{
    [Fact]
    public async Task RepeatedFailedLoginsAreRefusedWith429AndRetryAfterEvenForTheRightPassword()
    {
        using var factory = new AppFactory(new Dictionary<string, string?> { ["RateLimits:AuthPermitsPerMinute"] = "6" });
        var client = factory.CreateClient();
        var name = "erin" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/auth/signup", new { username = name, email = $"{name}@example.com", password1 = "correct horse", password2 = "correct horse" })).StatusCode);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/auth/login", new { username = name, password = $"guess {i}" })).StatusCode);
        }

        var limited = await client.PostAsJsonAsync("/api/auth/login", new { username = name, password = "correct horse" });

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        var problem = await limited.ProblemAsync();
        Assert.Equal("/problems/too-many-requests", problem.GetProperty("type").GetString());
        Assert.Contains("try again in", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsJsonAsync("/api/auth/signup", new { username = name + "2", email = $"{name}2@example.com", password1 = "correct horse", password2 = "correct horse" })).StatusCode);
    }

    [Fact]
    public async Task SuccessfulLoginsDoNotCountButSignupsDo()
    {
        using var factory = new AppFactory(new Dictionary<string, string?> { ["RateLimits:AuthPermitsPerMinute"] = "3" });
        var client = factory.CreateClient();
        var name = "fay" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/auth/signup", new { username = name, email = $"{name}@example.com", password1 = "correct horse", password2 = "correct horse" })).StatusCode);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/auth/login", new { username = name, password = "correct horse" })).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/auth/signup", new { username = name + "b", email = $"{name}b@example.com", password1 = "correct horse", password2 = "correct horse" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsJsonAsync("/api/auth/signup", new { username = name + "b", email = $"{name}b@example.com", password1 = "correct horse", password2 = "correct horse" })).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsJsonAsync("/api/auth/signup", new { username = name + "c", email = $"{name}c@example.com", password1 = "correct horse", password2 = "correct horse" })).StatusCode);
    }

    [Fact]
    public async Task SuccessfulLoginsAreLimitedTooBecauseEachCostsAPasswordHash()
    {
        using var factory = new AppFactory(new Dictionary<string, string?> { ["RateLimits:LoginsPerMinute"] = "4" });
        var client = factory.CreateClient();
        var name = "gus" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/auth/signup", new { username = name, email = $"{name}@example.com", password1 = "correct horse", password2 = "correct horse" })).StatusCode);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/auth/login", new { username = name, password = "correct horse" })).StatusCode);
        }

        var limited = await client.PostAsJsonAsync("/api/auth/login", new { username = name, password = "correct horse" });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.InRange(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
    }

    [Fact]
    public async Task TheAuthLimitDoesNotTouchTheRestOfTheApi()
    {
        using var factory = new AppFactory(new Dictionary<string, string?> { ["RateLimits:AuthPermitsPerMinute"] = "2" });
        var anonymous = factory.CreateClient();
        var user = await anonymous.NewUserAsync(factory.CreateClient);
        await anonymous.PostAsJsonAsync("/api/auth/login", new { username = "nobody", password = "guess one" });
        Assert.Equal(HttpStatusCode.TooManyRequests, (await anonymous.PostAsJsonAsync("/api/auth/login", new { username = "nobody", password = "guess two" })).StatusCode);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/tasks")).StatusCode);
        }
    }

    [Fact]
    public async Task ASpoofedForwardedForHeaderDoesNotEscapeTheLimitByDefault()
    {
        using var factory = new AppFactory(new Dictionary<string, string?> { ["RateLimits:AuthPermitsPerMinute"] = "2" });
        var client = factory.CreateClient();

        var answers = new List<HttpStatusCode>();
        for (var i = 1; i <= 3; i++)
        {
            answers.Add((await LoginFromAsync(client, $"198.51.100.{i}")).StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], answers);
    }

    [Fact]
    public async Task BehindATrustedProxyEachClientAndEachIpv6NetworkHasItsOwnWindow()
    {
        using var factory = new AppFactory(new Dictionary<string, string?> { ["RateLimits:AuthPermitsPerMinute"] = "2", ["RequestLimits:TrustForwardedHeaders"] = "true" });
        var client = factory.CreateClient();

        await LoginFromAsync(client, "203.0.113.1");
        await LoginFromAsync(client, "203.0.113.1");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await LoginFromAsync(client, "203.0.113.1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFromAsync(client, "203.0.113.2")).StatusCode);

        // One host usually owns a whole IPv6 /64: its addresses share a window, the next network does not.
        await LoginFromAsync(client, "2001:db8:0:0::1");
        await LoginFromAsync(client, "2001:db8:0:0::2");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await LoginFromAsync(client, "2001:db8:0:0::3")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFromAsync(client, "2001:db8:0:1::1")).StatusCode);
    }

    private static async Task<HttpResponseMessage> LoginFromAsync(HttpClient client, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { username = "nobody", password = "a guess" }) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request);
    }
}
