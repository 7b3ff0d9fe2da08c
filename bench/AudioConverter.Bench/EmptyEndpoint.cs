using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace AudioConverter.Bench;

/// <summary>
/// The comparison point for listing: a minimal Kestrel app in the bench process answering GET /empty with
/// 200 and no body, no middleware. It shares the machine (and the bench's process) with the load generator.
/// </summary>
internal sealed class EmptyEndpoint : IAsyncDisposable
{
    private readonly WebApplication app;

    private EmptyEndpoint(WebApplication app, string url)
    {
        this.app = app;
        Url = url;
    }

    public string Url { get; }

    public static async Task<EmptyEndpoint> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/empty", () => Results.Ok());
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EmptyEndpoint(app, address.TrimEnd('/') + "/empty");
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
