using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace AudioConverter.Bench;

/// <summary>
/// The comparison point for the upload cost: a separate process (this program with --bare-server) whose Kestrel
/// answers POST /bare by streaming the request body, multipart framing and all, to a file, with no parsing, no
/// auth and no database. Being its own process, its CPU time can be read from /proc like the server's.
/// </summary>
internal sealed class BareServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly string folder;

    private BareServer(Process process, string folder, string url)
    {
        this.process = process;
        this.folder = folder;
        Url = url;
    }

    public string Url { get; }

    public int Pid => process.Id;

    /// <summary>The child process's side: serves until its standard input closes.</summary>
    public static async Task<int> ServeAsync(string folder)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/bare", async (HttpRequest request, CancellationToken cancellationToken) =>
        {
            var path = Path.Combine(folder, Guid.NewGuid().ToString("N"));
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await request.Body.CopyToAsync(file, 81920, cancellationToken);
            }

            return Results.Created();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Console.WriteLine(address.TrimEnd('/') + "/bare");
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }

    public static async Task<BareServer> StartAsync(CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("audioconverter-bare-").FullName;
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath ?? "dotnet") == "dotnet")
        {
            start.ArgumentList.Add(typeof(BareServer).Assembly.Location);
        }

        start.ArgumentList.Add("--bare-server");
        start.ArgumentList.Add(folder);
        var process = Process.Start(start) ?? throw new InvalidOperationException("The bare endpoint's process could not be started.");
        var url = await process.StandardOutput.ReadLineAsync(cancellationToken)
            ?? throw new InvalidOperationException("The bare endpoint's process ended before it listened.");
        return new BareServer(process, folder, url);
    }

    /// <summary>Deletes what the uploads wrote (between measurements, outside the measured window).</summary>
    public void Clear()
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            File.Delete(file);
        }
    }

    public async ValueTask DisposeAsync()
    {
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
        Directory.Delete(folder, recursive: true);
    }
}
