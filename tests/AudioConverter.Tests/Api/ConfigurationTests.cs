using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AudioConverter.Tests.Api;

/// <summary>The built program started as a process: wrong settings stop it with one line naming the setting; PORT is honoured.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Database__Provider", "Oracle", "Database:Provider")]
    [InlineData("Storage__Provider", "Floppy", "Storage:Provider")]
    [InlineData("Queue__Provider", "Carrier pigeon", "Queue:Provider")]
    [InlineData("Worker__LeaseSeconds", "0", "LeaseSeconds")]
    [InlineData("Auth__SigningKey", "too short", "Auth:SigningKey")]
    [InlineData("Role", "janitor", "--role")]
    [InlineData("Notifications__SmtpHost", "127.0.0.1", "Notifications:From is required")]
    public async Task AWrongSettingStopsTheProgramWithOneLineNamingIt(string key, string value, string named)
    {
        var (exitCode, stderr) = await RunToExitAsync(new Dictionary<string, string> { [key] = value });

        Assert.Equal(2, exitCode);
        Assert.Contains(named, stderr, StringComparison.Ordinal);
        Assert.StartsWith("AudioConverter cannot start:", stderr.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePortVariableChoosesTheListeningPort()
    {
        var port = FreePort();
        var environment = DataEnvironment();
        environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Start(environment);
        try
        {
            using var http = new HttpClient();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpStatusCode? status = null;
            while (status is null && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    status = (await http.GetAsync($"http://127.0.0.1:{port}/health/live")).StatusCode;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200);
                }
            }

            Assert.Equal(HttpStatusCode.OK, status);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<(int ExitCode, string Stderr)> RunToExitAsync(Dictionary<string, string> settings)
    {
        var environment = DataEnvironment();
        environment["Urls"] = $"http://127.0.0.1:{FreePort()}";
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        using var process = Start(environment);
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The program did not stop on a wrong setting: {await stdout}");
        }

        return (process.ExitCode, await stderr);
    }

    private static Dictionary<string, string> DataEnvironment()
    {
        var data = Path.Combine(Path.GetTempPath(), "ac-tests", Guid.NewGuid().ToString("N"));
        return new Dictionary<string, string>
        {
            ["Database__ConnectionString"] = $"Data Source={Path.Combine(data, "app.db")}",
            ["Storage__LocalPath"] = Path.Combine(data, "blobs"),
            ["Auth__SigningKeyPath"] = Path.Combine(data, "jwt.key"),
            ["Worker__TempPath"] = Path.Combine(data, "tmp"),
        };
    }

    private static Process Start(Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "AudioConverter.Server.dll"));
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return Process.Start(start)!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
