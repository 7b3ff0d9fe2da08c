using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Api;

/// <summary>The upload's single pass over the body: the content hash is stored with the task, extra text parts are bounded.</summary>
public sealed class UploadFormTests(ApiOnlyApp app) : IClassFixture<ApiOnlyApp>
{
    [Fact]
    public async Task TheContentHashIsStoredWithTheTask()
    {
        var client = await app.NewUserAsync();
        var bytes = AudioSamples.Get("mp3");
        var task = await client.UploadOkAsync(bytes, "song.mp3", "wav");

        using var scope = app.Factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var row = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == task.Id);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), row.InputSha256);
    }

    [Fact]
    public async Task OtherTextPartsAreAcceptedOnce()
    {
        var client = await app.NewUserAsync();
        using var once = new MultipartFormDataContent
        {
            { new StringContent("mp3"), "newFormat" },
            { new StringContent("128"), "bitrate" },
            { new ByteArrayContent(AudioSamples.Get("mp3")), "fileName", "a.mp3" },
        };
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/tasks", once)).StatusCode);

        using var twice = new MultipartFormDataContent
        {
            { new StringContent("mp3"), "newFormat" },
            { new StringContent("128"), "bitrate" },
            { new StringContent("192"), "bitrate" },
            { new ByteArrayContent(AudioSamples.Get("mp3")), "fileName", "a.mp3" },
        };
        var response = await client.PostAsync("/api/tasks", twice);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty("bitrate", out _));
        Assert.Single((await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json))!);
    }

    [Fact]
    public async Task ATextPartLongerThanTheLimitIsRefused()
    {
        var client = await app.NewUserAsync();
        using var form = new MultipartFormDataContent
        {
            { new StringContent("wav"), "newFormat" },
            { new StringContent(new string('x', UploadForm.MaxTextFieldBytes + 1)), "anOption" },
        };
        var response = await client.PostAsync("/api/tasks", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("longer than", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
