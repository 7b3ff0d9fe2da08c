using System.Net;
using AudioConverter.Server.Hosting;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Security;

public sealed class SecurityHeaderTests
{
    [Fact]
    public async Task EveryKindOfResponseCarriesTheSecurityHeaders()
    {
        using var factory = new AppFactory();
        var anonymous = factory.CreateClient();
        var user = await anonymous.NewUserAsync(factory.CreateClient);
        var task = await user.UploadOkAsync(AudioSamples.Get("mp3"), "page.html", "wav");

        var responses = new Dictionary<string, HttpResponseMessage>
        {
            ["page"] = await anonymous.GetAsync("/"),
            ["health"] = await anonymous.GetAsync("/health/live"),
            ["openapi"] = await anonymous.GetAsync("/openapi/v1.json"),
            ["401"] = await anonymous.GetAsync("/api/tasks"),
            ["404"] = await user.GetAsync("/api/tasks/999999"),
            ["unknown path"] = await anonymous.GetAsync("/no/such/path"),
            ["400"] = await anonymous.PostAsync("/api/auth/login", new StringContent("{", System.Text.Encoding.UTF8, "application/json")),
            ["json"] = await user.GetAsync("/api/formats"),
            ["download"] = await user.GetAsync($"/api/tasks/{task.Id}/original"),
        };

        foreach (var (what, response) in responses)
        {
            Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var nosniff) && nosniff.Single() == "nosniff", what);
            Assert.True(response.Headers.TryGetValues("X-Frame-Options", out var frame) && frame.Single() == "DENY", what);
            Assert.True(response.Headers.TryGetValues("Referrer-Policy", out var referrer) && referrer.Single() == "no-referrer", what);
            Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var csp) && csp.Single() == SecurityHeaders.ContentSecurityPolicy, what);
        }

        Assert.Equal(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'",
            SecurityHeaders.ContentSecurityPolicy);

        // An uploaded "page.html" comes back as a download of audio, never as a page.
        var download = responses["download"];
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.NotEqual("text/html", download.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheApiDocsGetTheirOwnRelaxedPolicyOnlyUnderDocs()
    {
        using var factory = new AppFactory();
        var response = await factory.CreateClient().GetAsync("/docs/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Equal(SecurityHeaders.DocsContentSecurityPolicy, csp);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("object-src 'none'", csp, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Browser")]
    public async Task ThePageAndTheDocsRenderInChromiumWithoutAPolicyViolation()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.NewDataDirectory());

        foreach (var (path, mustContain) in new[] { ("/docs/", "section-header-label"), ("/", "<body") })
        {
            var (dom, console) = await DumpDomAsync(new Uri(server.BaseAddress, path));
            Assert.Contains(mustContain, dom, StringComparison.Ordinal);
            Assert.DoesNotContain("Content Security Policy", console, StringComparison.Ordinal);
        }
    }

    private static async Task<(string Dom, string Console)> DumpDomAsync(Uri url)
    {
        var profile = Directory.CreateTempSubdirectory("ac-chromium-").FullName;
        ExternalCommand.Result chromium;
        try
        {
            chromium = await ExternalCommand.RunToEndAsync("chromium",
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", $"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom", url.ToString(),
            ], TimeSpan.FromSeconds(90));
        }
        finally
        {
            DeleteProfile(profile);
        }

        return (chromium.StandardOutput, chromium.StandardError);
    }

    private static void DeleteProfile(string profile)
    {
        try
        {
            Directory.Delete(profile, recursive: true);
        }
        catch (IOException)
        {
            // A helper process may still hold a file for a moment.
        }
    }
}
