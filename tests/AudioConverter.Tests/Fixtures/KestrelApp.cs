using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Fixtures;

/// <summary>
/// The real host on a real loopback port (Kestrel, not the in-memory test server), optionally on a test clock:
/// for clients that need real sockets (a separate program, streaming bodies, raw headers).
/// </summary>
public sealed class KestrelApp : IDisposable
{
    private readonly AppFactory app;

    public KestrelApp(TimeProvider? clock = null, IDictionary<string, string?>? overrides = null)
    {
        app = new AppFactory(new Dictionary<string, string?>(overrides ?? new Dictionary<string, string?>()) { ["Urls"] = "http://127.0.0.1:0" });
        Factory = app.WithWebHostBuilder(b => b.ConfigureTestServices(s =>
        {
            if (clock is not null)
            {
                s.AddSingleton(clock);
            }
        }));
        Factory.UseKestrel(0);
        Factory.StartServer();
        var address = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }

    public WebApplicationFactory<Program> Factory { get; }

    public Uri BaseAddress { get; }

    public string DataDirectory => app.DataDirectory;

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    public Task<HttpClient> NewUserAsync(string? name = null) => CreateClient().NewUserAsync(CreateClient, name);

    public void Dispose()
    {
        Factory.Dispose();
        app.Dispose();
    }
}
