using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Tests.Fixtures;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Keys;

/// <summary>API keys through the real pipeline: created once-shown, hashed, scoped per route group, revoked, expired, truncated.</summary>
public sealed class ApiKeyTests : IDisposable
{
    // Starts at the real time, to the second: the JWT handler checks login tokens against the system clock.
    private readonly FakeTimeProvider clock = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    private readonly AppFactory app = new();
    private readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory;

    public ApiKeyTests()
    {
        factory = app.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
    }

    public void Dispose()
    {
        factory.Dispose();
        app.Dispose();
    }

    private Task<HttpClient> NewUserAsync() => factory.CreateClient().NewUserAsync(factory.CreateClient);

    private HttpClient WithKey(string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<JsonElement> CreateKeyAsync(HttpClient user, object body)
    {
        var response = await user.PostAsJsonAsync("/api/keys", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task A_key_is_shown_once_works_as_a_bearer_token_and_is_listed_without_its_secret()
    {
        var user = await NewUserAsync();
        var created = await CreateKeyAsync(user, new { name = "backup script", scopes = new[] { "tasks:read", "tasks:write" } });
        var key = created.GetProperty("key").GetString()!;
        Assert.Matches("^ack_[A-Za-z0-9_-]{43}$", key);
        Assert.Equal(["tasks:read", "tasks:write"], created.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));

        var program = WithKey(key);
        var task = await program.UploadOkAsync(AudioSamples.Get("wav", 1), "tone.wav", "mp3");
        Assert.Equal(HttpStatusCode.OK, (await program.GetAsync($"/api/tasks/{task.Id}")).StatusCode);

        // The same task is the user's, whichever credential made it.
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync($"/api/tasks/{task.Id}")).StatusCode);

        var listText = await user.GetStringAsync("/api/keys");
        Assert.DoesNotContain(key, listText, StringComparison.Ordinal);
        Assert.DoesNotContain(key[4..], listText, StringComparison.Ordinal);
        var listed = JsonDocument.Parse(listText).RootElement.EnumerateArray().Single();
        Assert.Equal(key[..8], listed.GetProperty("prefix").GetString());
        Assert.Equal(clock.GetUtcNow().UtcDateTime, listed.GetProperty("lastUsedAt").GetDateTime().ToUniversalTime());

        // Stored hashed: the database holds no trace of the secret.
        var database = await File.ReadAllBytesAsync(Path.Combine(app.DataDirectory, "app.db"));
        Assert.DoesNotContain(key[4..], System.Text.Encoding.ASCII.GetString(database), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_route_outside_the_keys_scopes_answers_403_naming_the_missing_scope()
    {
        var user = await NewUserAsync();
        var task = await user.UploadOkAsync(AudioSamples.Get("wav", 1), "tone.wav", "mp3");
        var reader = WithKey((await CreateKeyAsync(user, new { name = "reader", scopes = new[] { "tasks:read" } })).GetProperty("key").GetString()!);

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/tasks")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/tasks/{task.Id}/original")).StatusCode);

        var upload = await reader.UploadAsync(AudioSamples.Get("wav", 1), "tone.wav", "mp3");
        Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
        var problem = await upload.ProblemAsync();
        Assert.Equal("tasks:write", problem.GetProperty("scope").GetString());
        Assert.Contains("'tasks:write'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var delete = await reader.DeleteAsync($"/api/tasks/{task.Id}");
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Equal("tasks:write", (await delete.ProblemAsync()).GetProperty("scope").GetString());
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync($"/api/tasks/{task.Id}")).StatusCode);

        var writer = WithKey((await CreateKeyAsync(user, new { name = "writer", scopes = new[] { "tasks:write" } })).GetProperty("key").GetString()!);
        var list = await writer.GetAsync("/api/tasks");
        Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        Assert.Equal("tasks:read", (await list.ProblemAsync()).GetProperty("scope").GetString());

        // A key never manages keys, whatever its scopes: that needs the password's token.
        var keys = await writer.PostAsJsonAsync("/api/keys", new { name = "escalate", scopes = new[] { "tasks:read" } });
        Assert.Equal(HttpStatusCode.Forbidden, keys.StatusCode);
        Assert.Contains("login token", (await keys.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoked_expired_truncated_and_unknown_keys_are_refused_with_401_saying_why()
    {
        var user = await NewUserAsync();
        var revoked = await CreateKeyAsync(user, new { name = "old laptop", scopes = new[] { "tasks:read" } });
        var revokedKey = revoked.GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await WithKey(revokedKey).GetAsync("/api/tasks")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await user.DeleteAsync($"/api/keys/{revoked.GetProperty("id").GetInt64()}")).StatusCode);
        await AssertRefusedAsync(revokedKey, "revoked");
        Assert.NotNull(JsonDocument.Parse(await user.GetStringAsync("/api/keys")).RootElement[0].GetProperty("revokedAt").GetString());

        var expiring = (await CreateKeyAsync(user, new { name = "ci", scopes = new[] { "tasks:read" }, expiresAt = clock.GetUtcNow().AddHours(1) })).GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await WithKey(expiring).GetAsync("/api/tasks")).StatusCode);
        clock.Advance(TimeSpan.FromHours(1));
        await AssertRefusedAsync(expiring, "expired");

        var good = (await CreateKeyAsync(user, new { name = "good", scopes = new[] { "tasks:read" } })).GetProperty("key").GetString()!;
        await AssertRefusedAsync(good[..^1], "incomplete");
        await AssertRefusedAsync(good[..10], "incomplete");
        await AssertRefusedAsync(good[..^1] + "!", "incomplete");
        var flipped = good[..^1] + (good[^1] == 'A' ? 'B' : 'A');
        await AssertRefusedAsync(flipped, "not known");
        Assert.Equal(HttpStatusCode.OK, (await WithKey(good).GetAsync("/api/tasks")).StatusCode);
    }

    [Fact]
    public async Task Last_used_is_written_at_most_once_a_minute_per_key()
    {
        var user = await NewUserAsync();
        var key = WithKey((await CreateKeyAsync(user, new { name = "poller", scopes = new[] { "tasks:read" } })).GetProperty("key").GetString()!);
        async Task<DateTime> LastUsedAsync() => JsonDocument.Parse(await user.GetStringAsync("/api/keys")).RootElement[0].GetProperty("lastUsedAt").GetDateTime().ToUniversalTime();

        var first = clock.GetUtcNow().UtcDateTime;
        await key.GetAsync("/api/tasks");
        Assert.Equal(first, await LastUsedAsync());
        clock.Advance(TimeSpan.FromSeconds(40));
        await key.GetAsync("/api/tasks");
        Assert.Equal(first, await LastUsedAsync());
        clock.Advance(TimeSpan.FromSeconds(30));
        await key.GetAsync("/api/tasks");
        Assert.Equal(first.AddSeconds(70), await LastUsedAsync());
    }

    [Fact]
    public async Task Creating_a_key_checks_name_scopes_and_expiry_and_another_users_key_cannot_be_revoked()
    {
        var user = await NewUserAsync();
        await AssertInvalidAsync(user, new { name = "", scopes = new[] { "tasks:read" } }, "name");
        await AssertInvalidAsync(user, new { name = new string('n', 101), scopes = new[] { "tasks:read" } }, "name");
        await AssertInvalidAsync(user, new { name = "x", scopes = Array.Empty<string>() }, "scopes");
        await AssertInvalidAsync(user, new { name = "x", scopes = new[] { "admin" } }, "scopes");
        await AssertInvalidAsync(user, new { name = "x", scopes = new[] { "tasks:read" }, expiresAt = clock.GetUtcNow().AddMinutes(-1) }, "expiresAt");

        var id = (await CreateKeyAsync(user, new { name = "mine", scopes = new[] { "presets" } })).GetProperty("id").GetInt64();
        var other = await NewUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/api/keys/{id}")).StatusCode);
        Assert.Empty(JsonDocument.Parse(await other.GetStringAsync("/api/keys")).RootElement.EnumerateArray());
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateClient().GetAsync("/api/keys")).StatusCode);
    }

    private async Task AssertRefusedAsync(string key, string reason)
    {
        var response = await WithKey(key).GetAsync("/api/tasks");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(reason, (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static async Task AssertInvalidAsync(HttpClient user, object body, string field)
    {
        var response = await user.PostAsJsonAsync("/api/keys", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty(field, out _), $"no error for {field}");
    }
}
