using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Api;

public sealed class AccountTests(SharedApp app) : IClassFixture<SharedApp>
{
    private readonly HttpClient client = app.Factory.CreateClient();

    private static object Signup(string name, string? email = null, string password1 = "correct horse", string? password2 = null) =>
        new { username = name, email = email ?? $"{name}@example.com", password1, password2 = password2 ?? password1 };

    private static string NewName() => "a" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task SignupCreatesAnAccountAndReturnsItWithoutThePassword()
    {
        var name = NewName();
        var response = await client.PostAsJsonAsync("/api/auth/signup", Signup(name));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal(name, body.GetProperty("username").GetString());
        Assert.Equal($"{name}@example.com", body.GetProperty("email").GetString());
        Assert.True(body.GetProperty("id").GetInt64() > 0);
        Assert.DoesNotContain("correct horse", text, StringComparison.Ordinal);
        Assert.DoesNotContain("password", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SignupAcceptsUserAsTheUsernameField()
    {
        var name = NewName();
        var response = await client.PostAsJsonAsync("/api/auth/signup", new { user = name, email = $"{name}@example.com", password1 = "correct horse", password2 = "correct horse" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("username")]
    [InlineData("email")]
    [InlineData("password1")]
    [InlineData("password2")]
    public async Task SignupWithAMissingFieldNamesTheField(string missing)
    {
        var name = NewName();
        var fields = new Dictionary<string, string> { ["username"] = name, ["email"] = $"{name}@example.com", ["password1"] = "correct horse", ["password2"] = "correct horse" };
        fields.Remove(missing);

        var response = await client.PostAsJsonAsync("/api/auth/signup", fields);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty(missing, out _), problem.ToString());
    }

    [Theory]
    [InlineData("not-an-email", "email")]
    [InlineData("two@@example.com", "email")]
    [InlineData("spaces in@example.com", "email")]
    public async Task SignupWithAnInvalidEmailIsRefused(string email, string field)
    {
        var response = await client.PostAsJsonAsync("/api/auth/signup", Signup(NewName(), email));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task SignupWithDifferentPasswordsIsRefused()
    {
        var response = await client.PostAsJsonAsync("/api/auth/signup", Signup(NewName(), password1: "correct horse", password2: "battery staple"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.Contains("differ", problem.GetProperty("errors").GetProperty("password2")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignupWithAShortPasswordIsRefused()
    {
        var response = await client.PostAsJsonAsync("/api/auth/signup", Signup(NewName(), password1: "short"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("8 characters", (await response.ProblemAsync()).GetProperty("errors").GetProperty("password1")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignupWithATakenUsernameSaysTheUsernameIsTaken()
    {
        var name = NewName();
        (await client.PostAsJsonAsync("/api/auth/signup", Signup(name))).EnsureSuccessStatusCode();

        var response = await client.PostAsJsonAsync("/api/auth/signup", Signup(name.ToUpperInvariant(), email: $"other-{name}@example.com"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("username", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignupWithATakenEmailSaysTheEmailIsTaken()
    {
        var name = NewName();
        (await client.PostAsJsonAsync("/api/auth/signup", Signup(name))).EnsureSuccessStatusCode();

        var response = await client.PostAsJsonAsync("/api/auth/signup", Signup(NewName(), email: $"{name}@EXAMPLE.com"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("e-mail", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"username\": \"x\", ")]
    [InlineData("not json at all")]
    [InlineData("[1, 2, 3]")]
    [InlineData("")]
    public async Task SignupWithMalformedJsonIsABadRequestWithAMessage(string body)
    {
        var response = await client.PostAsync("/api/auth/signup", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task SignupWithAFormBodyAsksForJson()
    {
        var response = await client.PostAsync("/api/auth/signup", new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "x" }));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("JSON", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoginReturnsABearerTokenThatOpensTheApi()
    {
        var name = NewName();
        (await client.PostAsJsonAsync("/api/auth/signup", Signup(name))).EnsureSuccessStatusCode();

        var response = await client.PostAsJsonAsync("/api/auth/login", new { username = name, password = "correct horse" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Bearer", body.GetProperty("tokenType").GetString());
        Assert.True(body.GetProperty("expiresAt").GetDateTime() > DateTime.UtcNow);
        var authed = app.Factory.CreateClient();
        authed.DefaultRequestHeaders.Authorization = new("Bearer", body.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await authed.GetAsync("/api/tasks")).StatusCode);
    }

    [Fact]
    public async Task LoginAcceptsTheEmailInEitherField()
    {
        var name = NewName();
        (await client.PostAsJsonAsync("/api/auth/signup", Signup(name))).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/auth/login", new { username = $"{name}@example.com", password = "correct horse" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/auth/login", new { email = $"{name}@example.com", password = "correct horse" })).StatusCode);
    }

    [Fact]
    public async Task LoginAnswersTheSameForAnUnknownUserAndAWrongPassword()
    {
        var name = NewName();
        (await client.PostAsJsonAsync("/api/auth/signup", Signup(name))).EnsureSuccessStatusCode();

        var wrongPassword = await client.PostAsJsonAsync("/api/auth/login", new { username = name, password = "wrong password" });
        var unknownUser = await client.PostAsJsonAsync("/api/auth/login", new { username = NewName(), password = "wrong password" });

        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownUser.StatusCode);
        var a = await wrongPassword.ProblemAsync();
        var b = await unknownUser.ProblemAsync();
        Assert.Equal(a.GetProperty("detail").GetString(), b.GetProperty("detail").GetString());
        Assert.Equal(a.GetProperty("type").GetString(), b.GetProperty("type").GetString());
    }

    [Fact]
    public async Task LoginWithoutAPasswordNamesTheMissingField()
    {
        var response = await client.PostAsJsonAsync("/api/auth/login", new { username = "someone" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty("password", out _));
    }
}
