using System.Collections.Concurrent;
using AudioConverter.Tests.Fixtures;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AudioConverter.Tests.Web;

/// <summary>
/// The page follows GET /api/events and polls while the stream is broken. In Chromium, the browser refuses the page's
/// /api/events requests (a 503 problem, as a proxy or an overloaded server would): the page says live updates are
/// interrupted, and its upload still reaches Ready by polling. Once /api/events answers again the stream resumes.
/// </summary>
public sealed class WebEventFallbackTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task WhileTheStreamIsRefusedTheListReachesReadyByPollingThenTheStreamResumes()
    {
        await using var session = await browser.NewSessionAsync(1280, 800);
        var page = session.Page;
        var refused = 0;
        var streams = new ConcurrentQueue<int>();
        page.Response += (_, response) =>
        {
            if (new Uri(response.Url).AbsolutePath == "/api/events")
            {
                streams.Enqueue(response.Status);
            }
        };
        await page.RouteAsync("**/api/events*", route =>
        {
            Interlocked.Increment(ref refused);
            return route.FulfillAsync(new() { Status = 503, ContentType = "application/problem+json", Body = "{\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"Events are down for the test.\"}" });
        });

        await session.OpenAsync();
        var username = BrowserSession.NewUsername();
        await session.SignUpAsync(username);
        await session.ExpectSignedInAsync(username);
        await Expect(page.Locator("#live-state")).ToHaveTextAsync("Live updates are interrupted; checking every second.");

        await session.ChooseFormatAsync("wav");
        await session.PickFileAsync("polled.mp3", AudioSamples.Get("mp3", 2));
        await session.ExpectStatusAsync("polled.mp3", "Ready");
        Assert.True(Volatile.Read(ref refused) >= 1, "the page never asked for /api/events");
        Assert.DoesNotContain(200, streams);

        // The stream comes back: the page reconnects by itself and says so, and a new upload is followed live.
        await page.UnrouteAsync("**/api/events*");
        await Expect(page.Locator("#live-state")).ToHaveTextAsync("Live updates are on.", new() { Timeout = 20_000 });
        Assert.Contains(200, streams);
        await session.PickFileAsync("live.mp3", AudioSamples.Get("mp3", 2));
        await session.ExpectStatusAsync("live.mp3", "Ready");
        await Expect(page.Locator("#live-state")).ToHaveTextAsync("Live updates are on.");
    }
}
