using System.Globalization;
using System.IO.Compression;
using AudioConverter.Tests.Fixtures;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AudioConverter.Tests.Web;

/// <summary>The options panel, presets, progress, player and waveform, download-all and live updates, in headless Chromium.</summary>
public sealed class WebOptionsTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static (int SampleRate, int Channels, string Title) Measure(byte[] content, string extension)
    {
        var folder = Directory.CreateTempSubdirectory("ac-web-").FullName;
        var path = Path.Combine(folder, "out." + extension);
        File.WriteAllBytes(path, content);
        try
        {
            var text = AudioSamples.Run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate,channels:format_tags=title", "-of", "default=noprint_wrappers=1", path]);
            var values = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Replace("TAG:", "", StringComparison.Ordinal), p => p[1], StringComparer.OrdinalIgnoreCase);
            return (int.Parse(values["sample_rate"], CultureInfo.InvariantCulture), int.Parse(values["channels"], CultureInfo.InvariantCulture), values.GetValueOrDefault("title") ?? "");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public async Task APresetWithAnOverrideIsConvertedAsChosenPlayedDrawnAndZippedWithLiveUpdatesOnly()
    {
        await using var session = await browser.NewSessionAsync(1280, 800);
        var page = session.Page;
        await session.OpenAsync();
        await session.SignUpAsync(BrowserSession.NewUsername());
        await Expect(page.Locator("#live-state")).ToHaveTextAsync("Live updates are on.");

        // From here on every change must arrive through the event stream: no list polling.
        var listCalls = 0;
        page.Request += (_, request) =>
        {
            if (request.Method == "GET" && request.Url.Contains("/api/tasks?", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref listCalls);
            }
        };

        await page.GetByText("Options and presets").ClickAsync();
        await page.GetByLabel("Preset").SelectOptionAsync("telephony");
        await Expect(page.GetByLabel("Convert to")).ToHaveValueAsync("wav");
        await Expect(page.GetByLabel("Sample rate")).ToHaveValueAsync("8000");
        await page.GetByLabel("Sample rate").FillAsync("16000");
        await page.GetByLabel("Title").FillAsync("Call of the day");
        await session.PickFilesAsync(AudioSamples.PathOf("mp3"));

        var row = session.TaskRow("sample-3.mp3");
        await session.ExpectStatusAsync("sample-3.mp3", "Ready");
        await Expect(row.Locator(".task-progress")).ToHaveAttributeAsync("value", "100");
        var (wav, name) = await session.DownloadAsync(row.GetByRole(AriaRole.Button, new() { Name = "Download WAV of sample-3.mp3" }));
        Assert.Equal("sample-3.wav", name);
        Assert.Equal((16000, 1, "Call of the day"), Measure(wav, "wav"));

        await row.GetByRole(AriaRole.Button, new() { Name = "Listen to sample-3.mp3" }).ClickAsync();
        await Expect(row.Locator("audio")).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("link="));
        var drawn = await row.Locator("canvas").EvaluateAsync<int>("c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }");
        Assert.True(drawn > 100, $"The waveform canvas has {drawn} drawn pixels.");

        // A second file without the preset, then both as one ZIP.
        await page.GetByLabel("Preset").SelectOptionAsync("");
        await session.ChooseFormatAsync("ogg");
        await session.PickFilesAsync(AudioSamples.PathOf("wav"));
        await session.ExpectStatusAsync("sample-3.wav", "Ready");
        await page.GetByLabel("Select sample-3.mp3").CheckAsync();
        await page.GetByLabel("Select sample-3.wav").CheckAsync();
        var (zip, zipName) = await session.DownloadAsync(page.GetByRole(AriaRole.Button, new() { Name = "Download 2 selected as ZIP" }));
        Assert.EndsWith(".zip", zipName, StringComparison.Ordinal);
        using var archive = new ZipArchive(new MemoryStream(zip));
        Assert.Equal(["sample-3.ogg", "sample-3.wav"], archive.Entries.Select(e => e.Name).Order(StringComparer.Ordinal));

        await session.ScreenshotAsync("desktop-1280-options");
        Assert.Equal(0, listCalls);
        session.AssertNoScriptErrors();
    }

    [Fact]
    public async Task EveryControlHasAnAccessibleName()
    {
        await using var session = await browser.NewSessionAsync(390, 844);
        var page = session.Page;
        await session.OpenAsync();
        await session.SignUpAsync(BrowserSession.NewUsername());
        await Expect(page.Locator("#live-state")).ToHaveTextAsync("Live updates are on.");
        await session.ChooseFormatAsync("mp3");
        await session.PickFilesAsync(AudioSamples.PathOf("mp3"));
        await session.ExpectStatusAsync("sample-3.mp3", "Ready");
        await page.GetByText("Options and presets").ClickAsync();
        await page.GetByLabel("Preset").SelectOptionAsync("podcast speech");
        await session.TaskRow("sample-3.mp3").GetByRole(AriaRole.Button, new() { Name = "Listen to sample-3.mp3" }).ClickAsync();
        await Expect(session.TaskRow("sample-3.mp3").Locator("audio")).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("link="));
        var unnamed = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('#app-view button, #app-view input, #app-view select, #app-view audio, #app-view progress, #app-view canvas')]
              .filter(e => !e.closest('[hidden]'))
              .filter(e => !((e.getAttribute('aria-label') || '').trim() || (e.labels && [...e.labels].some(l => l.textContent.trim())) || (e.tagName === 'BUTTON' && e.textContent.trim())))
              .map(e => e.outerHTML.slice(0, 120))
            """);
        Assert.Empty(unnamed);
        await session.ScreenshotAsync("phone-390-options");
        session.AssertNoScriptErrors();
    }

    [Fact]
    public async Task AnUploadUnderWayOutlivesTheTokensExpiry()
    {
        await using var session = await browser.NewSessionAsync(1280, 800);
        var page = session.Page;
        var username = BrowserSession.NewUsername();
        await session.OpenAsync();
        await session.SignUpAsync(username);
        await Expect(page.Locator("#live-state")).ToHaveTextAsync("Live updates are on.");
        await session.ChooseFormatAsync("mp3");

        // The page believes its token ends in 3 seconds; the upload is throttled to take longer than that.
        await page.EvaluateAsync("() => { const s = JSON.parse(localStorage.getItem('audioconverter.session')); s.expiresAt = new Date(Date.now() + 3000).toISOString(); localStorage.setItem('audioconverter.session', JSON.stringify(s)); }");
        await page.ReloadAsync();
        await Expect(page.Locator("#live-state")).ToHaveTextAsync("Live updates are on.");
        var cdp = await page.Context.NewCDPSessionAsync(page);
        await cdp.SendAsync("Network.enable");
        await cdp.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object> { ["offline"] = false, ["latency"] = 0, ["downloadThroughput"] = -1, ["uploadThroughput"] = 150_000 });
        await session.PickFilesAsync(AudioSamples.PathOf("wav", seconds: 10));
        await Expect(page.GetByText("Your session has expired; log in again.")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        await Expect(session.UploadRow("sample-10.wav").Locator(".upload-state")).ToHaveTextAsync("Uploaded", new() { Timeout = 60_000 });
        await cdp.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object> { ["offline"] = false, ["latency"] = 0, ["downloadThroughput"] = -1, ["uploadThroughput"] = -1 });

        await session.LogInAsync(username);
        await session.ExpectStatusAsync("sample-10.wav", "Ready");
    }
}
