using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using AudioConverter.Tests.Fixtures;
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

    private static readonly (HttpMethod Method, string Path)[] Routes =
    [
        (HttpMethod.Get, "/api/tasks"),
        (HttpMethod.Post, "/api/tasks"),
        (HttpMethod.Get, "/api/tasks/1"),
        (HttpMethod.Put, "/api/tasks/1"),
        (HttpMethod.Delete, "/api/tasks/1"),
        (HttpMethod.Get, "/api/tasks/1/original"),
        (HttpMethod.Get, "/api/tasks/1/converted"),
        (HttpMethod.Get, "/api/files/0123456789abcdef0123456789abcdef.mp3"),
        (HttpMethod.Get, "/api/download/1"),
    ];

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

        foreach (var (method, path) in Routes)
        {
            using var request = new HttpRequestMessage(method, path);
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            if (method == HttpMethod.Put)
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
