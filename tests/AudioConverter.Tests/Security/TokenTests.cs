using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using AudioConverter.Tests.Fixtures;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AudioConverter.Tests.Security;

public sealed class TokenTests : IClassFixture<TokenTests.Server>
{
    private readonly Server server;

    public TokenTests(Server server) => this.server = server;

    /// <summary>One host for the class: every case here is read-only against it.</summary>
    public sealed class Server : IDisposable
    {
        public AppFactory Factory { get; } = new();

        public void Dispose() => Factory.Dispose();
    }

    /// <summary>
    /// Every route under /api that the app itself maps, read from its EndpointDataSource, with each route parameter
    /// filled with a sample value: a route added tomorrow is covered without touching this file. Only the routes
    /// that say AllowAnonymous (the account group) are left out, and <see cref="TheOnlyAnonymousApiRoutesAreTheAccountOnes"/>
    /// keeps that set honest.
    /// </summary>
    private IReadOnlyList<(HttpMethod Method, string Path)> Routes() =>
        ApiEndpoints().Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null).SelectMany(Requests).Distinct().ToList();

    private IEnumerable<RouteEndpoint> ApiEndpoints() =>
        server.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => ("/" + (e.RoutePattern.RawText ?? "").TrimStart('/')).StartsWith("/api/", StringComparison.Ordinal));

    private static IEnumerable<(HttpMethod Method, string Path)> Requests(RouteEndpoint endpoint)
    {
        var path = SamplePath(endpoint.RoutePattern);
        var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [];
        return methods.Count == 0 ? [(HttpMethod.Get, path)] : methods.Select(m => (new HttpMethod(m), path));
    }

    /// <summary>The route's path with each parameter filled: numbers where a constraint wants one, a stored-file name for fileName, a word elsewhere.</summary>
    private static string SamplePath(RoutePattern pattern)
    {
        var segments = pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter => SampleValue(parameter),
            _ => throw new InvalidOperationException($"Unexpected route part {part.GetType().Name} in {pattern.RawText}"),
        })));
        return "/" + string.Join('/', segments);
    }

    private static string SampleValue(RoutePatternParameterPart parameter)
    {
        var constraints = parameter.ParameterPolicies.Select(p => p.Content ?? "").ToList();
        if (constraints.Any(c => c is "long" or "int" or "min(1)" || c.StartsWith("range", StringComparison.Ordinal)))
        {
            return "1";
        }

        if (constraints.Contains("guid"))
        {
            return Guid.Empty.ToString();
        }

        return parameter.Name.Contains("file", StringComparison.OrdinalIgnoreCase) ? "0123456789abcdef0123456789abcdef.mp3" : "sample";
    }

    [Fact]
    public void TheRouteListIsReadFromTheAppAndCoversTheKnownRoutes()
    {
        var routes = Routes();

        // A few routes every version of the API has: if discovery broke, the theory below would check nothing.
        Assert.Contains((HttpMethod.Get, "/api/tasks"), routes);
        Assert.Contains((HttpMethod.Post, "/api/tasks"), routes);
        Assert.Contains((HttpMethod.Put, "/api/tasks/1"), routes);
        Assert.Contains((HttpMethod.Delete, "/api/tasks/1"), routes);
        Assert.Contains((HttpMethod.Get, "/api/tasks/1/converted"), routes);
        Assert.Contains((HttpMethod.Get, "/api/files/0123456789abcdef0123456789abcdef.mp3"), routes);
        Assert.Contains((HttpMethod.Get, "/api/tasks/1/waveform"), routes);
        Assert.DoesNotContain(routes, r => r.Path == "/api/formats");
        Assert.DoesNotContain(routes, r => r.Path.StartsWith("/api/auth/", StringComparison.Ordinal));
    }

    [Fact]
    public void TheOnlyAnonymousApiRoutesAreTheAccountOnes()
    {
        // A route is open to everyone only by saying so; the only ones that may are the account routes (sign up, log in,
        // verify an address) and the format list that forms are built from.
        var anonymous = ApiEndpoints()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null || !e.Metadata.OfType<IAuthorizeData>().Any())
            .Select(e => e.RoutePattern.RawText ?? "")
            .ToList();
        Assert.NotEmpty(anonymous);
        Assert.All(anonymous, route => Assert.True(
            ("/" + route.TrimStart('/')).StartsWith("/api/auth/", StringComparison.Ordinal) || route.TrimStart('/') == "api/formats",
            $"{route} is open without a token"));
    }

    public static TheoryData<string> Kinds => ["none", "empty bearer", "malformed", "basic", "other key", "alg none", "expired", "HS512 with the right key", "wrong issuer", "wrong audience", "not yet valid"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task EveryRouteAnswersAnUnusableTokenWith401ProblemNever500(string kind)
    {
        var userId = await UserIdAsync();
        var authorization = kind switch
        {
            "none" => null,
            "empty bearer" => "Bearer ",
            "malformed" => "Bearer not.a.jwt",
            "basic" => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:password")),
            "other key" => "Bearer " + Sign(RandomNumberGenerator.GetBytes(64), SecurityAlgorithms.HmacSha256, userId),
            "alg none" => "Bearer " + Unsigned(userId),
            "expired" => "Bearer " + Sign(ServerKey(), SecurityAlgorithms.HmacSha256, userId, expires: DateTime.UtcNow.AddMinutes(-5)),
            "HS512 with the right key" => "Bearer " + Sign(ServerKey(), SecurityAlgorithms.HmacSha512, userId),
            "wrong issuer" => "Bearer " + Sign(ServerKey(), SecurityAlgorithms.HmacSha256, userId, issuer: "Someone"),
            "wrong audience" => "Bearer " + Sign(ServerKey(), SecurityAlgorithms.HmacSha256, userId, audience: "Someone"),
            "not yet valid" => "Bearer " + Sign(ServerKey(), SecurityAlgorithms.HmacSha256, userId, notBefore: DateTime.UtcNow.AddHours(1), expires: DateTime.UtcNow.AddHours(2)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var client = server.Factory.CreateClient();

        foreach (var (method, path) in Routes())
        {
            using var request = new HttpRequestMessage(method, path);
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            if (method == HttpMethod.Put || method == HttpMethod.Patch)
            {
                request.Content = JsonContent("{\"newFormat\":\"wav\"}");
            }

            var response = await client.SendAsync(request);

            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with {kind}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var problem = await response.ProblemAsync();
            Assert.Equal(401, problem.GetProperty("status").GetInt32());
            Assert.Equal("/problems/unauthorized", problem.GetProperty("type").GetString());

            // The detail tells the person what to do: log in (again), or send the header in the right form.
            var detail = problem.GetProperty("detail").GetString();
            Assert.Contains(kind switch
            {
                "none" => "log in to get a token",
                "expired" => "has expired",
                "basic" or "empty bearer" => "Bearer",
                _ => "log in again",
            }, detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AValidTokenOpensTheSameRoutesSoTheRefusalsAboveAreAboutTheToken()
    {
        var userId = await UserIdAsync();
        var client = server.Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Sign(ServerKey(), SecurityAlgorithms.HmacSha256, userId));

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/tasks")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/formats")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/tasks/1")).StatusCode);
    }

    private async Task<long> UserIdAsync()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..12];
        var anonymous = server.Factory.CreateClient();
        var signup = await anonymous.PostAsync("/api/auth/signup", JsonContent($"{{\"username\":\"{name}\",\"email\":\"{name}@example.com\",\"password1\":\"correct horse\",\"password2\":\"correct horse\"}}"));
        signup.EnsureSuccessStatusCode();
        var body = System.Text.Json.JsonDocument.Parse(await signup.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("id").GetInt64();
    }

    private byte[] ServerKey() => Convert.FromBase64String(File.ReadAllText(Path.Combine(server.Factory.DataDirectory, "jwt.key")).Trim());

    private static string Sign(byte[] key, string algorithm, long userId, DateTime? expires = null, string issuer = "AudioConverter", string audience = "AudioConverter", DateTime? notBefore = null)
    {
        var expiry = expires ?? DateTime.UtcNow.AddMinutes(30);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = (notBefore ?? expiry.AddMinutes(-60)),
            NotBefore = notBefore ?? expiry.AddMinutes(-60),
            Expires = expiry,
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, userId.ToString(System.Globalization.CultureInfo.InvariantCulture))]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), algorithm),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>A token that says it needs no signature: header {"alg":"none"}, the claims, an empty signature.</summary>
    private static string Unsigned(long userId)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        var payload = Base64UrlEncoder.Encode($"{{\"sub\":\"{userId}\",\"iss\":\"AudioConverter\",\"aud\":\"AudioConverter\",\"nbf\":{now - 60},\"iat\":{now - 60},\"exp\":{now + 1800}}}");
        return $"{header}.{payload}.";
    }

    private static StringContent JsonContent(string json) => new(json, Encoding.UTF8, "application/json");
}
