using System.Net;
using System.Net.Http.Json;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Api;

/// <summary>GET /api/tasks pages with the opaque 'after' cursor of the Link header, so every task is reachable.</summary>
public sealed class TaskListPagingTests(ApiOnlyApp app) : IClassFixture<ApiOnlyApp>
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task FollowingTheNextLinksReachesEveryTaskOnce(int order)
    {
        var client = await app.NewUserAsync();
        var made = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            made.Add((await client.UploadOkAsync(AudioSamples.Get("mp3"), $"t{i}.mp3", "wav")).Id);
        }

        var seen = new List<long>();
        var pages = 0;
        string? next = $"/api/tasks?max=2&order={order}";
        while (next is not null)
        {
            using var response = await client.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = (await response.Content.ReadFromJsonAsync<List<TaskResponse>>(ApiClient.Json))!;
            Assert.InRange(page.Count, 1, 2);
            seen.AddRange(page.Select(t => t.Id));
            pages++;
            next = NextLink(response);
        }

        Assert.Equal(3, pages);
        Assert.Equal(order == 0 ? made : Enumerable.Reverse(made), seen);
    }

    [Fact]
    public async Task AFullLastPageHasNoNextLink()
    {
        var client = await app.NewUserAsync();
        await client.UploadOkAsync(AudioSamples.Get("mp3"), "a.mp3", "wav");
        await client.UploadOkAsync(AudioSamples.Get("mp3"), "b.mp3", "wav");

        using var response = await client.GetAsync("/api/tasks?max=2");
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<List<TaskResponse>>(ApiClient.Json))!.Count);
        Assert.Null(NextLink(response));
    }

    [Theory]
    [InlineData("12")]
    [InlineData("not a cursor")]
    [InlineData("AQAAAAAAAAAA")]
    [InlineData("AAAAAAAAAAAB")]
    [InlineData("AQAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task AnythingButACursorIsRefusedNamingAfter(string after)
    {
        var client = await app.NewUserAsync();
        var response = await client.GetAsync($"/api/tasks?after={Uri.EscapeDataString(after)}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty("after", out _));
    }

    [Fact]
    public async Task ACursorShowsOnlyTheCallersTasks()
    {
        var owner = await app.NewUserAsync();
        var first = await owner.UploadOkAsync(AudioSamples.Get("mp3"), "a.mp3", "wav");
        await owner.UploadOkAsync(AudioSamples.Get("mp3"), "b.mp3", "wav");
        var other = await app.NewUserAsync();

        var page = await other.GetFromJsonAsync<List<TaskResponse>>($"/api/tasks?after={TaskListCursor.Encode(first.Id - 1)}", ApiClient.Json);
        Assert.Empty(page!);
    }

    private static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        var link = Assert.Single(values);
        Assert.EndsWith("; rel=\"next\"", link, StringComparison.Ordinal);
        return link[1..link.IndexOf('>', StringComparison.Ordinal)];
    }
}
