using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AudioConverter.Tests.Web;

/// <summary>The web page at '/', driven in headless Chromium against the real server under a strict CSP.</summary>
public sealed class WebPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task APersonSignsUpConvertsTwoFilesDownloadsDeletesAndLogsBackIn()
    {
        await using var session = await browser.NewSessionAsync(1280, 800);
        var page = session.Page;
        var username = BrowserSession.NewUsername();
        await session.OpenAsync();
        await session.ScreenshotAsync("desktop-1280-signed-out");

        await session.SignUpAsync(username);
        await session.ExpectSignedInAsync(username);

        // One file dropped on the zone, one picked with the file chooser, each to its own format.
        await session.ChooseFormatAsync("wav");
        await session.DropFileAsync("sample-3.mp3", AudioSamples.Get("mp3"));
        // One after the other, so that the order of the list below is known.
        await Expect(session.UploadRow("sample-3.mp3").Locator(".upload-state")).ToHaveTextAsync("Uploaded");
        await session.ChooseFormatAsync("ogg");
        await session.PickFilesAsync(AudioSamples.PathOf("wav"));

        await Expect(session.UploadRow("sample-3.wav").Locator(".upload-state")).ToHaveTextAsync("Uploaded");
        await Expect(session.UploadRow("sample-3.wav").Locator("progress")).ToHaveAttributeAsync("value", "100");
        await session.ExpectStatusAsync("sample-3.mp3", "Ready");
        await session.ExpectStatusAsync("sample-3.wav", "Ready");

        var mp3Task = session.TaskRow("sample-3.mp3");
        await Expect(mp3Task.Locator(".task-formats")).ToHaveTextAsync("MP3 → WAV");
        await Expect(mp3Task.Locator(".task-duration")).ToHaveTextAsync("0:03");
        await Expect(mp3Task.Locator(".task-sizes")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+(\.\d)? KB → \d+(\.\d)? KB$"));
        // Newest first: the wav file was uploaded second.
        await Expect(page.Locator("#task-list .task-name")).ToHaveTextAsync(["sample-3.wav", "sample-3.mp3"]);
        await session.ScreenshotAsync("desktop-1280-conversions");

        var (wav, wavName) = await session.DownloadAsync(mp3Task.GetByRole(AriaRole.Button, new() { Name = "Download WAV of sample-3.mp3" }));
        Assert.Equal("sample-3.wav", wavName);
        var probe = AudioSamples.Probe(wav, "wav");
        Assert.Equal(("wav", "pcm_s16le"), (probe.Format, probe.Codec));
        Assert.InRange(probe.Duration, 2.9, 3.1);

        var (original, originalName) = await session.DownloadAsync(mp3Task.GetByRole(AriaRole.Button, new() { Name = "Download the original of sample-3.mp3" }));
        Assert.Equal("sample-3.mp3", originalName);
        Assert.Equal(AudioSamples.Get("mp3"), original);

        // Convert the same upload again, to FLAC this time.
        await mp3Task.GetByLabel("New format for sample-3.mp3").SelectOptionAsync("flac");
        await mp3Task.GetByRole(AriaRole.Button, new() { Name = "Convert again: sample-3.mp3" }).ClickAsync();
        await Expect(mp3Task.Locator(".task-formats")).ToHaveTextAsync("MP3 → FLAC");
        await session.ExpectStatusAsync("sample-3.mp3", "Ready");
        var (flac, flacName) = await session.DownloadAsync(mp3Task.GetByRole(AriaRole.Button, new() { Name = "Download FLAC of sample-3.mp3" }));
        Assert.Equal("sample-3.flac", flacName);
        Assert.Equal(("flac", "flac"), AudioSamples.Probe(flac, "flac") is var p ? (p.Format, p.Codec) : default);

        // Delete asks first; cancelling keeps the task, confirming removes it.
        var wavTask = session.TaskRow("sample-3.wav");
        await wavTask.GetByRole(AriaRole.Button, new() { Name = "Delete sample-3.wav" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Delete this conversion?" });
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync("sample-3.wav");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(wavTask).ToHaveCountAsync(1);
        await wavTask.GetByRole(AriaRole.Button, new() { Name = "Delete sample-3.wav" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Expect(wavTask).ToHaveCountAsync(0);
        await Expect(page.Locator("#tasks-count")).ToHaveTextAsync("1 conversion");
        Assert.Single(await TasksOfAsync(await session.TokenAsync()));

        // A reload keeps the session; logging out and in again shows the same list.
        await page.ReloadAsync();
        await session.ExpectSignedInAsync(username);
        await Expect(page.Locator("#task-list .task-name")).ToHaveTextAsync(["sample-3.mp3"]);
        await session.LogOutAsync();
        Assert.Null(await session.TokenAsync());
        await Expect(page.Locator("#notice")).ToHaveTextAsync("You are logged out.");
        await Expect(page.Locator("#task-list > li")).ToHaveCountAsync(0);
        await session.LogInAsync($"{username}@example.com");
        await session.ExpectSignedInAsync(username);
        await Expect(page.Locator("#task-list .task-name")).ToHaveTextAsync(["sample-3.mp3"]);
        await session.ExpectStatusAsync("sample-3.mp3", "Ready");

        session.AssertNoScriptErrors();
    }

    [Fact]
    public async Task AFileTheServiceRefusesShowsTheServicesMessage()
    {
        var notAudio = Encoding.UTF8.GetBytes("These are my notes, not a song.\nSecond line.\n");
        var expected = await RefusalOfAsync(notAudio, "notes.mp3");
        Assert.False(string.IsNullOrWhiteSpace(expected));

        await using var session = await browser.NewSessionAsync();
        var username = BrowserSession.NewUsername();
        await session.OpenAsync();
        await session.SignUpAsync(username);
        await session.ExpectSignedInAsync(username);

        await session.PickFileAsync("notes.mp3", notAudio, "text/plain");

        var row = session.UploadRow("notes.mp3");
        await Expect(row.Locator(".upload-state")).ToHaveTextAsync("Refused");
        await Expect(row.Locator(".upload-message")).ToHaveTextAsync(expected);
        await Expect(session.Page.Locator("#tasks-empty")).ToBeVisibleAsync();
        Assert.Empty(await TasksOfAsync(await session.TokenAsync()));
        session.AssertNoScriptErrors();
    }

    [Fact]
    public async Task AFileThatDoesNotDecodeShowsTheWorkersErrorWithoutMovingTheLayout()
    {
        await using var session = await browser.NewSessionAsync();
        var username = BrowserSession.NewUsername();
        await session.OpenAsync();
        await session.SignUpAsync(username);
        await session.ExpectSignedInAsync(username);

        // An Ogg signature passes the upload check; the bytes after it are not audio, so the worker fails the task.
        var broken = Encoding.ASCII.GetBytes("OggS").Concat(Enumerable.Range(0, 4000).Select(i => (byte)(i * 7919 % 251))).ToArray();
        await session.ChooseFormatAsync("mp3");
        await session.PickFileAsync("broken.ogg", broken, "audio/ogg");
        await session.PickFilesAsync(AudioSamples.PathOf("flac"));
        await session.ExpectStatusAsync("broken.ogg", "Failed");
        await session.ExpectStatusAsync("sample-3.flac", "Ready");

        var tasks = await TasksOfAsync(await session.TokenAsync());
        var error = tasks.Single(t => t.GetProperty("fileName").GetString() == "broken.ogg").GetProperty("error").GetString();
        Assert.False(string.IsNullOrWhiteSpace(error));
        var failed = session.TaskRow("broken.ogg");
        await Expect(failed.Locator(".task-note")).ToHaveTextAsync(error!);
        await Expect(failed.GetByRole(AriaRole.Button, new() { Name = "Download MP3 of broken.ogg" })).ToBeDisabledAsync();

        // The badge keeps one width whatever it says, and every row keeps the same height.
        var failedBadge = await failed.Locator(".badge").BoundingBoxAsync();
        var readyBadge = await session.TaskRow("sample-3.flac").Locator(".badge").BoundingBoxAsync();
        Assert.Equal(readyBadge!.Width, failedBadge!.Width);
        await session.ScreenshotAsync("desktop-1280-failed");
        session.AssertNoScriptErrors();
    }

    [Fact]
    public async Task SignupAndLoginShowTheApisMessagesBesideTheFields()
    {
        await using var session = await browser.NewSessionAsync();
        var page = session.Page;
        var username = BrowserSession.NewUsername();
        await session.OpenAsync();

        await session.SignUpAsync(username, email: "not-an-address", password: "short", repeat: "different");
        await Expect(page.Locator("#signup-email-error")).ToHaveTextAsync("'not-an-address' is not a valid e-mail address.");
        await Expect(page.Locator("#signup-password1-error")).ToHaveTextAsync("The password must be at least 8 characters long.");
        await Expect(page.Locator("#signup-password2-error")).ToHaveTextAsync("The two passwords differ.");
        await Expect(page.Locator("#signup-email")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.Locator("#signup-username")).Not.ToHaveAttributeAsync("aria-invalid", "true");
        // Focus goes to the first field with a problem, so a keyboard user lands on it.
        await Expect(page.Locator("#signup-email")).ToBeFocusedAsync();
        await session.ScreenshotAsync("desktop-1280-signup-errors");

        await session.SignUpAsync(username);
        await session.ExpectSignedInAsync(username);
        await session.LogOutAsync();

        // Taken names are a 409 without field errors: its detail shows at the top of the form.
        await session.SignUpAsync(username, email: $"other-{username}@example.com");
        await Expect(page.Locator("#signup-error")).ToHaveTextAsync($"The username '{username}' is already taken.");

        await session.LogInAsync(username, "wrong password!");
        await Expect(page.Locator("#login-error")).ToHaveTextAsync("The username or password is wrong.");
        await session.LogInAsync(username);
        await session.ExpectSignedInAsync(username);
        session.AssertNoScriptErrors();
    }

    [Fact]
    public async Task ASecondUserCannotSeeTheFirstUsersTasks()
    {
        await using var session = await browser.NewSessionAsync();
        var page = session.Page;
        var first = BrowserSession.NewUsername();
        var second = BrowserSession.NewUsername();
        await session.OpenAsync();
        await session.SignUpAsync(first);
        await session.ExpectSignedInAsync(first);
        await session.ChooseFormatAsync("opus");
        await session.PickFilesAsync(AudioSamples.PathOf("ogg"));
        await session.ExpectStatusAsync("sample-3.ogg", "Ready");

        // Same browser, next person: nothing of the first one's list may stay on screen.
        await session.LogOutAsync();
        await session.SignUpAsync(second);
        await session.ExpectSignedInAsync(second);
        await Expect(page.Locator("#tasks-empty")).ToBeVisibleAsync();
        await Expect(page.Locator("#task-list > li")).ToHaveCountAsync(0);
        Assert.Empty(await TasksOfAsync(await session.TokenAsync()));

        // A separate browser of the second person sees nothing either, even after the list has been polled.
        await using var other = await browser.NewSessionAsync();
        await other.OpenAsync();
        await other.LogInAsync(second);
        await other.ExpectSignedInAsync(second);
        await other.Page.ReloadAsync();
        await other.ExpectSignedInAsync(second);
        await Expect(other.Page.Locator("#tasks-empty")).ToBeVisibleAsync();
        await Expect(other.Page.GetByText("sample-3.ogg")).ToHaveCountAsync(0);
        session.AssertNoScriptErrors();
        other.AssertNoScriptErrors();
    }

    [Fact]
    public async Task AHostileFileNameIsShownAsTextNeverAsMarkup()
    {
        await using var session = await browser.NewSessionAsync();
        var page = session.Page;
        var username = BrowserSession.NewUsername();
        await session.OpenAsync();
        await session.SignUpAsync(username);
        await session.ExpectSignedInAsync(username);

        // No slash in it: the server keeps only the last path segment of a name.
        const string hostile = "<img src=x onerror=window.pwned=1><b>bold<b> &amp; 'quoted'.mp3";
        await session.PickFileAsync(hostile, AudioSamples.Get("mp3"));
        await session.ExpectStatusAsync(hostile, "Ready");

        await Expect(session.TaskRow(hostile).Locator(".task-name")).ToHaveTextAsync(hostile);
        await Expect(page.Locator("#task-list img, #task-list b, #uploads img, #uploads b")).ToHaveCountAsync(0);
        Assert.False(await page.EvaluateAsync<bool>("() => window.pwned === 1"));
        session.AssertNoScriptErrors();
    }

    [Fact]
    public async Task ATokenTheServerRejectsLogsThePersonOutWithItsMessage()
    {
        await using var session = await browser.NewSessionAsync();
        var page = session.Page;
        await session.OpenAsync();

        // A stored session whose token is forged: the first API call answers 401 and the page logs out.
        var expiresAt = DateTime.UtcNow.AddHours(1).ToString("O");
        await page.EvaluateAsync(
            "([expiresAt]) => localStorage.setItem('audioconverter.session', JSON.stringify({ token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.forged', expiresAt, username: 'someone' }))",
            new object[] { expiresAt });
        await page.ReloadAsync();

        await Expect(page.Locator("#notice")).ToHaveTextAsync("The token is not valid; log in again to get a new one.");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Log in" })).ToBeVisibleAsync();
        await Expect(page.Locator("#app-view")).ToBeHiddenAsync();
        Assert.Null(await session.TokenAsync());

        // An expired one never reaches the server.
        await page.EvaluateAsync(
            "() => localStorage.setItem('audioconverter.session', JSON.stringify({ token: 'x.y.z', expiresAt: '2000-01-01T00:00:00Z', username: 'someone' }))");
        await page.ReloadAsync();
        await Expect(page.Locator("#notice")).ToHaveTextAsync("Your session has expired; log in again.");
        session.AssertNoScriptErrors();
    }

    [Fact]
    public async Task ThePageFitsAPhoneAndEveryControlHasAName()
    {
        await using var session = await browser.NewSessionAsync(390, 844);
        var page = session.Page;
        var username = BrowserSession.NewUsername();
        await session.OpenAsync();
        await session.ScreenshotAsync("phone-390-signed-out");
        await AssertFitsWidthAsync(page);

        await session.SignUpAsync(username);
        await session.ExpectSignedInAsync(username);
        await session.ChooseFormatAsync("m4a");
        await session.PickFilesAsync(AudioSamples.PathOf("mp3"), AudioSamples.PathOf("wav"));
        await session.ExpectStatusAsync("sample-3.mp3", "Ready");
        await session.ExpectStatusAsync("sample-3.wav", "Ready");
        await AssertFitsWidthAsync(page);
        await session.ScreenshotAsync("phone-390-conversions");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await session.ScreenshotAsync("phone-390-conversions-dark");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });

        // The smallest phones still in use are 320 px wide.
        await page.SetViewportSizeAsync(320, 640);
        await AssertFitsWidthAsync(page);
        await page.SetViewportSizeAsync(390, 844);

        var unnamed = await page.EvaluateAsync<string[]>(
            @"() => [...document.querySelectorAll('button, input, select, a[href]')]
                .filter(e => !e.closest('[hidden], template, dialog:not([open])'))
                .filter(e => {
                  const labelled = e.labels && e.labels.length > 0 && [...e.labels].some(l => l.textContent.trim());
                  return !(labelled || (e.getAttribute('aria-label') || '').trim() || e.textContent.trim());
                })
                .map(e => e.outerHTML)");
        Assert.Empty(unnamed);

        // The whole flow works from the keyboard: reach a task's delete button, confirm with Enter.
        var delete = session.TaskRow("sample-3.wav").GetByRole(AriaRole.Button, new() { Name = "Delete sample-3.wav" });
        await delete.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeHiddenAsync();
        await Expect(delete).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");

        // Wait for the dialog to take focus (Cancel first) before moving on: a key pressed earlier lands on the page.
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Tab");
        await Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(session.TaskRow("sample-3.wav")).ToHaveCountAsync(0);
        session.AssertNoScriptErrors();
    }

    [Fact]
    public async Task AnInlineScriptOrStyleIsBlockedAndCaughtByTheErrorWatch()
    {
        // The control for every other test here: if the policy or the watch stopped working, this one fails.
        await using var session = await browser.NewSessionAsync();
        await session.OpenAsync();
        await session.Page.EvaluateAsync(
            @"() => {
                const script = document.createElement('script');
                script.textContent = 'window.inlineRan = true';
                document.body.append(script);
                document.body.insertAdjacentHTML('beforeend', '<p style=""color: red"">styled</p>');
            }");

        Assert.False(await session.Page.EvaluateAsync<bool>("() => window.inlineRan === true"));
        await Deadline.UntilAsync(
            () => session.Errors.Count(e => e.Contains("Content Security Policy", StringComparison.Ordinal)) >= 2,
            TimeSpan.FromSeconds(10),
            "the browser to report both blocked inline uses");
        Assert.Equal(2, session.Errors.Count(e => e.Contains("Content Security Policy", StringComparison.Ordinal)));
    }

    private static async Task AssertFitsWidthAsync(IPage page)
    {
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.True(overflow <= 0, $"The page is {overflow}px wider than the screen.");
    }

    private async Task<JsonElement[]> TasksOfAsync(string? token)
    {
        Assert.NotNull(token);
        using var client = browser.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await client.GetFromJsonAsync<JsonElement[]>("/api/tasks?max=1000", ApiClient.Json))!;
    }

    /// <summary>What the API itself says about an upload, for a user of its own.</summary>
    private async Task<string> RefusalOfAsync(byte[] content, string fileName)
    {
        using var anonymous = browser.CreateClient();
        using var client = await anonymous.NewUserAsync(browser.CreateClient);
        using var response = await client.UploadAsync(content, fileName, "wav");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        return (await response.ProblemAsync()).GetProperty("detail").GetString()!;
    }
}
