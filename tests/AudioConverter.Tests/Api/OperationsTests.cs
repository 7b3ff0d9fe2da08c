using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Api;

public sealed class OperationsTests(SharedApp app) : IClassFixture<SharedApp>
{
    [Fact]
    public async Task FormatsListsTheEightTargetFormats()
    {
        var client = await app.NewUserAsync();
        var formats = await client.GetFromJsonAsync<JsonElement>("/api/formats");

        var names = formats.EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        Assert.Equal(["mp3", "wav", "ogg", "m4a", "aac", "flac", "opus", "wma"], names);
    }

    [Fact]
    public async Task HealthLiveAndReadyAnswer()
    {
        var client = app.Factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesEveryRoute()
    {
        var document = await app.Factory.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var path in new[] { "/api/auth/signup", "/api/auth/login", "/api/tasks", "/api/tasks/{id}", "/api/tasks/{id}/original", "/api/tasks/{id}/converted", "/api/files/{fileName}", "/api/download/{id}", "/api/formats" })
        {
            Assert.Contains(path, paths);
        }
    }

    [Fact]
    public async Task TheInteractiveDocsPageIsServed()
    {
        var response = await app.Factory.CreateClient().GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownRouteIsAProblem404()
    {
        var response = await app.Factory.CreateClient().GetAsync("/api/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.ProblemAsync();
    }
}
