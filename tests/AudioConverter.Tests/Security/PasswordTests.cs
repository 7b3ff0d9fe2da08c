using System.Net;
using System.Net.Http.Json;
using AudioConverter.Core.Users;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Tests.Fixtures;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AudioConverter.Tests.Security;

public sealed class PasswordTests
{
    [Fact]
    public async Task PasswordsAreStoredAsSlowSaltedHashesAndNeverReturned()
    {
        using var factory = new AppFactory();
        var client = factory.CreateClient();
        const string password = "Tr0ub4dor&3-same-for-both";
        var bodies = new List<string>();
        foreach (var name in new[] { "alice" + Guid.NewGuid().ToString("N")[..8], "bob" + Guid.NewGuid().ToString("N")[..8] })
        {
            var signup = await client.PostAsJsonAsync("/api/auth/signup", new { username = name, email = $"{name}@example.com", password1 = password, password2 = password });
            Assert.Equal(HttpStatusCode.Created, signup.StatusCode);
            bodies.Add(await signup.Content.ReadAsStringAsync());
            var login = await client.PostAsJsonAsync("/api/auth/login", new { username = name, password });
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            bodies.Add(await login.Content.ReadAsStringAsync());
        }

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var hashes = await db.Users.AsNoTracking().Select(u => u.PasswordHash).ToListAsync();
        Assert.Equal(2, hashes.Count);
        Assert.NotEqual(hashes[0], hashes[1]);
        foreach (var hash in hashes)
        {
            Assert.DoesNotContain(password, hash, StringComparison.Ordinal);

            // ASP.NET Core Identity v3 format: 0x01, PRF, iteration count, salt length, salt, subkey.
            var bytes = Convert.FromBase64String(hash);
            Assert.Equal(0x01, bytes[0]);
            var iterations = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(5));
            var saltLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(9));
            Assert.True(iterations >= 100_000, $"only {iterations} iterations");
            Assert.True(saltLength >= 16, $"salt of only {saltLength} bytes");
            Assert.Equal(PasswordVerificationResult.Success, new PasswordHasher<User>().VerifyHashedPassword(new User { Username = "", Email = "", PasswordHash = hash }, hash, password));
        }

        Assert.All(bodies, body => Assert.DoesNotContain(password, body, StringComparison.Ordinal));
        Assert.All(bodies, body => Assert.DoesNotContain(hashes[0], body, StringComparison.Ordinal));
        Assert.All(bodies, body => Assert.DoesNotContain("passwordHash", body, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task PasswordsNeverAppearInTheLogsEvenAtTraceLevel()
    {
        var capture = new LogCapture();
        using var factory = new AppFactory(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace", ["Logging:LogLevel:Microsoft"] = "Trace" });
        using var logged = factory.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(capture).SetMinimumLevel(LogLevel.Trace).AddFilter<LogCapture>((string?)null, LogLevel.Trace)));
        var client = logged.CreateClient();
        const string password = "s3cret-Marker-7f1c9a";
        var name = "carol" + Guid.NewGuid().ToString("N")[..8];

        await client.PostAsJsonAsync("/api/auth/signup", new { username = name, email = $"{name}@example.com", password1 = password, password2 = password });
        await client.PostAsJsonAsync("/api/auth/signup", new { username = name + "x", email = "not-an-email", password1 = password, password2 = password + "!" });
        await client.PostAsJsonAsync("/api/auth/login", new { username = name, password });
        await client.PostAsJsonAsync("/api/auth/login", new { username = name, password = password + "-wrong" });
        await client.PostAsJsonAsync("/api/auth/login", new { username = "nobody-" + name, password });
        await client.PostAsync("/api/auth/login", new StringContent($"{{\"username\":\"{name}\",\"password\":\"{password}\"", System.Text.Encoding.UTF8, "application/json"));

        Assert.True(capture.Lines.Count > 20, $"only {capture.Lines.Count} log lines were captured; the capture is not working");
        Assert.DoesNotContain(password, capture.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoginAnswersAnUnknownUserAndAWrongPasswordTheSameWay()
    {
        using var factory = new AppFactory();
        var client = factory.CreateClient();
        var name = "dave" + Guid.NewGuid().ToString("N")[..8];
        await client.PostAsJsonAsync("/api/auth/signup", new { username = name, email = $"{name}@example.com", password1 = "correct horse", password2 = "correct horse" });

        var wrongPassword = await client.PostAsJsonAsync("/api/auth/login", new { username = name, password = "battery staple" });
        var unknownUser = await client.PostAsJsonAsync("/api/auth/login", new { username = "nobody" + name, password = "battery staple" });
        var unknownEmail = await client.PostAsJsonAsync("/api/auth/login", new { email = $"nobody{name}@example.com", password = "battery staple" });

        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownUser.StatusCode);
        var expected = await Problem.WithoutTraceIdAsync(wrongPassword);
        Assert.Equal(expected, await Problem.WithoutTraceIdAsync(unknownUser));
        Assert.Equal(expected, await Problem.WithoutTraceIdAsync(unknownEmail));
        Assert.Equal(wrongPassword.Headers.Select(h => h.Key).Order(), unknownUser.Headers.Select(h => h.Key).Order());
    }

    [Fact]
    public async Task LoginTakesAsLongForAnUnknownUserAsForAWrongPassword()
    {
        using var factory = new AppFactory();
        var client = factory.CreateClient();
        var name = "gus" + Guid.NewGuid().ToString("N")[..8];
        await client.PostAsJsonAsync("/api/auth/signup", new { username = name, email = $"{name}@example.com", password1 = "correct horse", password2 = "correct horse" });
        await client.PostAsJsonAsync("/api/auth/login", new { username = "warm-up", password = "battery staple" });

        // Interleaved, medians: a missing hash check for unknown users would make them ~50 times faster (PBKDF2 takes tens of ms).
        var known = new List<double>();
        var unknown = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            known.Add(await TimeLoginAsync(client, name));
            unknown.Add(await TimeLoginAsync(client, "nobody" + name));
        }

        var ratio = Median(unknown) / Median(known);
        Assert.InRange(ratio, 1 / 3.0, 3.0);
    }

    private static async Task<double> TimeLoginAsync(HttpClient client, string username)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var response = await client.PostAsJsonAsync("/api/auth/login", new { username, password = "battery staple" });
        stopwatch.Stop();
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        return stopwatch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
