using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AudioConverter.Bench;

/// <summary>
/// One server process of the scale-out bench in a role, on a free loopback port, killed (with its children) on
/// dispose. Started and awaited apart, so several workers start together and their pids are known at once.
/// </summary>
internal sealed class ScaleOutServer(Process process, string role, string baseUrl, string temp) : IAsyncDisposable
{
    public string BaseUrl => baseUrl;

    public int Pid => process.Id;

    public static ScaleOutServer Start(string dll, string role, Dictionary<string, string> stack, params (string Key, string Value)[] extra)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var temp = Directory.CreateTempSubdirectory("audioconverter-scaleout-").FullName;
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)!, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var (key, value) in stack)
        {
            start.Environment[key] = value;
        }

        start.Environment["Role"] = role;
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["Worker__TempPath"] = temp;
        start.Environment["Auth__SigningKeyPath"] = Path.Combine(temp, "jwt.key");
        foreach (var (key, value) in extra)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine($"[{role}] {e.Data}"); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ScaleOutServer(process, role, $"http://127.0.0.1:{port}", temp);
    }

    /// <summary>Until /health/ready answers 200; throws when the process ends or 90 s pass.</summary>
    public async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await http.GetAsync(BaseUrl + "/health/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(90))
            {
                throw new InvalidOperationException($"The {role} process did not become ready.");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        Directory.Delete(temp, recursive: true);
    }
}
