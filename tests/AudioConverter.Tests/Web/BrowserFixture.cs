using AudioConverter.Tests.Fixtures;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace AudioConverter.Tests.Web;

/// <summary>
/// The real host on a real port (Kestrel, port 0) with the strict Content-Security-Policy the page must live under,
/// and Debian's Chromium driven headless by Playwright. Shared by a test class; each test makes its own users and
/// browser context, so tests never see each other's sessions.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private const string ChromiumPath = "/usr/bin/chromium";

    private AppFactory? app;
    private WebApplicationFactory<Program>? server;
    private IPlaywright? playwright;

    public IBrowser Browser { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The running server's services, for seeding rows the page then shows.</summary>
    public IServiceProvider Services => server?.Services ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>A plain HTTP client on the same server, for checking what the page shows against the API itself.</summary>
    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress };

    public async Task InitializeAsync()
    {
        // appsettings.json names port 8080; a free port keeps tests clear of a running server and of each other.
        app = new AppFactory(new Dictionary<string, string?> { ["Urls"] = "http://127.0.0.1:0" });
        server = app.WithWebHostBuilder(builder => builder.ConfigureServices(services => services.AddTransient<IStartupFilter, StrictContentSecurityPolicy>()));
        server.UseKestrel(0);
        server.StartServer();
        var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));

        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
    }

    /// <summary>A fresh browser profile (its own localStorage) at the given screen size, watched for script and CSP errors.</summary>
    public async Task<BrowserSession> NewSessionAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = true,
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        return new BrowserSession(context, page);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        playwright?.Dispose();

        // The parent factory disposes the derived one that runs the server.
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }
}
