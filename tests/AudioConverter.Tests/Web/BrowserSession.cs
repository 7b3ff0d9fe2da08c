using System.Collections.Concurrent;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AudioConverter.Tests.Web;

/// <summary>One person at one browser: a page, the steps they take on it, and the script errors it produced.</summary>
public sealed class BrowserSession(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public const string Password = "correct horse battery";

    private static readonly TimeSpan ConversionTimeout = TimeSpan.FromSeconds(90);
    private readonly ConcurrentQueue<string> errors = Watch(page);

    public IPage Page => page;

    public IBrowserContext Context => context;

    /// <summary>Uncaught script errors and console errors (CSP violations among them); a refused request's own log line is not one.</summary>
    public IReadOnlyCollection<string> Errors => errors;

    public static string NewUsername() => "web" + Guid.NewGuid().ToString("N")[..10];

    private static ConcurrentQueue<string> Watch(IPage page)
    {
        var found = new ConcurrentQueue<string>();
        page.PageError += (_, error) => found.Enqueue("page error: " + error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                found.Enqueue("console: " + message.Text);
            }
        };
        return found;
    }

    /// <summary>Opens the page and checks it came with the strict policy, so a passing test means the page works under it.</summary>
    public async Task OpenAsync()
    {
        var response = await page.GotoAsync("/");
        Assert.NotNull(response);
        Assert.True(response.Ok, $"GET / answered {response.Status}");
        var headers = await response.AllHeadersAsync();
        Assert.Contains("script-src 'self'", headers.GetValueOrDefault("content-security-policy") ?? "", StringComparison.Ordinal);
    }

    public async Task SignUpAsync(string username, string? email = null, string password = Password, string? repeat = null)
    {
        await page.GetByLabel("Username", new() { Exact = true }).FillAsync(username);
        await page.GetByLabel("E-mail", new() { Exact = true }).FillAsync(email ?? $"{username}@example.com");
        await page.Locator("#signup-password1").FillAsync(password);
        await page.GetByLabel("Repeat the password").FillAsync(repeat ?? password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
    }

    public async Task LogInAsync(string username, string password = Password)
    {
        await page.GetByLabel("Username or e-mail").FillAsync(username);
        await page.Locator("#login-password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true }).ClickAsync();
    }

    public async Task ExpectSignedInAsync(string username)
    {
        await Expect(page.Locator("#account-name")).ToHaveTextAsync(username);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Log out" })).ToBeVisibleAsync();
        // The formats come from the API with the token: once they are there, the workspace is ready.
        await Expect(page.Locator("#format option[value=mp3]")).ToBeAttachedAsync();
    }

    public async Task LogOutAsync()
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Log in" })).ToBeVisibleAsync();
    }

    public Task ChooseFormatAsync(string format) => page.GetByLabel("Convert to").SelectOptionAsync(format);

    public Task PickFilesAsync(params string[] paths) => page.Locator("#files").SetInputFilesAsync(paths);

    public Task PickFileAsync(string name, byte[] content, string mimeType = "audio/mpeg") =>
        page.Locator("#files").SetInputFilesAsync(new FilePayload { Name = name, MimeType = mimeType, Buffer = content });

    /// <summary>Drops a file on the drop zone the way a drag from the desktop does: a drop event carrying a DataTransfer.</summary>
    public async Task DropFileAsync(string name, byte[] content)
    {
        var transfer = await page.EvaluateHandleAsync(
            @"([name, base64]) => {
                const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], name, { type: 'application/octet-stream' }));
                return transfer;
            }",
            new object[] { name, Convert.ToBase64String(content) });
        var zone = page.Locator("#dropzone");
        await zone.DispatchEventAsync("dragenter", new Dictionary<string, object> { ["dataTransfer"] = transfer });
        await zone.DispatchEventAsync("dragover", new Dictionary<string, object> { ["dataTransfer"] = transfer });
        await zone.DispatchEventAsync("drop", new Dictionary<string, object> { ["dataTransfer"] = transfer });
    }

    /// <summary>The upload row of a file (the newest one when the same name was uploaded twice).</summary>
    public ILocator UploadRow(string fileName) =>
        page.Locator("#uploads .upload-item").Filter(new() { Has = page.Locator(".upload-name", new() { HasTextString = fileName + " →" }) }).First;

    /// <summary>A task in the list, found the way a screen reader user would: by its heading, the file name.</summary>
    public ILocator TaskRow(string fileName) =>
        page.Locator("#task-list > li").Filter(new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = fileName, Exact = true }) });

    public async Task ExpectStatusAsync(string fileName, string badge) =>
        await Expect(TaskRow(fileName).Locator(".badge")).ToHaveTextAsync(badge, new() { Timeout = (float)ConversionTimeout.TotalMilliseconds });

    public async Task<(byte[] Content, string SuggestedName)> DownloadAsync(ILocator button)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => button.ClickAsync());
        var path = await download.PathAsync();
        return (await File.ReadAllBytesAsync(path), download.SuggestedFilename);
    }

    public async Task<string?> TokenAsync() =>
        await page.EvaluateAsync<string?>("() => JSON.parse(localStorage.getItem('audioconverter.session') ?? 'null')?.token ?? null");

    public async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true, Animations = ScreenshotAnimations.Disabled });
    }

    /// <summary>artifacts/screenshots under the repository root (found from the test binaries), where CI keeps artifacts.</summary>
    public static string ScreenshotFolder { get; } = FindScreenshotFolder();

    private static string FindScreenshotFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "AudioConverter.slnx")))
            {
                return Path.Combine(folder.FullName, "artifacts", "screenshots");
            }
        }

        return Path.Combine(AppContext.BaseDirectory, "screenshots");
    }

    public void AssertNoScriptErrors() => Assert.True(errors.IsEmpty, "The page reported errors:\n" + string.Join("\n", errors));

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}
