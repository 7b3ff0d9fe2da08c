using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Hosting;

/// <summary>Start-up as a user meets it, through the real process: where it listens, where its data lives, what a taken port says.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("ASPNETCORE_URLS")]
    [InlineData("ASPNETCORE_HTTP_PORTS")]
    public async Task TheStandardAspNetCoreVariablesChooseTheAddress(string variable)
    {
        var port = ServerProcess.FreePort();
        var value = variable == "ASPNETCORE_URLS" ? $"http://127.0.0.1:{port}" : port.ToString(CultureInfo.InvariantCulture);
        await using var server = ServerProcess.Start("standard-urls", "both", new Dictionary<string, string> { [variable] = value });

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Deadline.UntilAsync(async () => await AnswersAsync(http, $"http://127.0.0.1:{port}/health/live") || server.HasExited, TimeSpan.FromSeconds(60), $"the server to listen on port {port}");
        Assert.False(server.HasExited, server.Output);
    }

    [Fact]
    public async Task StartedFromAnotherFolderTheProgramFindsTheSameDatabaseAndKey()
    {
        var dataRoot = ServerProcess.NewDataDirectory();
        var elsewhere = ServerProcess.NewDataDirectory();
        var another = ServerProcess.NewDataDirectory();
        try
        {
            var settings = new Dictionary<string, string>
            {
                ["DataRoot"] = dataRoot,
                ["Database__ConnectionString"] = "Data Source=data/app.db",
                ["Storage__LocalPath"] = "data/blobs",
                ["Auth__SigningKeyPath"] = "data/jwt.key",
                ["Worker__TempPath"] = "data/tmp",
            };
            var name = "hal" + Guid.NewGuid().ToString("N")[..8];
            await using (var first = ServerProcess.Start("first", "both", settings, workingDirectory: elsewhere))
            {
                await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
                using var client = first.CreateClient();
                Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/auth/signup", new { username = name, email = $"{name}@example.com", password1 = "correct horse", password2 = "correct horse" })).StatusCode);
            }

            Assert.True(File.Exists(Path.Combine(dataRoot, "data", "app.db")));
            Assert.True(File.Exists(Path.Combine(dataRoot, "data", "jwt.key")));
            Assert.Empty(Directory.GetFileSystemEntries(elsewhere));

            // Started again from yet another folder: the same account logs in.
            await using var second = ServerProcess.Start("second", "both", settings, workingDirectory: another);
            await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            using var again = second.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await again.PostAsJsonAsync("/api/auth/login", new { username = name, password = "correct horse" })).StatusCode);
            Assert.Empty(Directory.GetFileSystemEntries(another));
        }
        finally
        {
            foreach (var folder in new[] { dataRoot, elsewhere, another })
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task APortAlreadyTakenStopsTheProgramWithOneLineBeforeTheWorkerStarts()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var server = ServerProcess.Start("taken", "both", new Dictionary<string, string> { ["Urls"] = $"http://127.0.0.1:{port}" });

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"The program did not stop on a taken port:\n{server.Output}");
        Assert.Equal(2, server.ExitCode);
        var line = Assert.Single(server.Lines, l => l.StartsWith("AudioConverter cannot start:", StringComparison.Ordinal));
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.Contains("PORT", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Worker starting", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConversionTimeoutLongerThanTheBrokersConsumerTimeoutStopsAWorkerWithOneLine()
    {
        await using var server = ServerProcess.Start("timeouts", "worker", new Dictionary<string, string>
        {
            ["Queue__Provider"] = "RabbitMq",
            ["Queue__RabbitMq__Uri"] = "amqp://guest:guest@127.0.0.1:9/",
            ["Queue__RabbitMq__ConsumerTimeoutSeconds"] = "600",
            ["Media__ConversionTimeoutSeconds"] = "600",
        });

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), server.Output);
        Assert.Equal(2, server.ExitCode);
        var line = Assert.Single(server.Lines, l => l.StartsWith("AudioConverter cannot start:", StringComparison.Ordinal));
        Assert.Contains("Queue:RabbitMq:ConsumerTimeoutSeconds", line, StringComparison.Ordinal);
        Assert.Contains("Media:ConversionTimeoutSeconds", line, StringComparison.Ordinal);
    }

    private static async Task<bool> AnswersAsync(HttpClient http, string url)
    {
        try
        {
            return (await http.GetAsync(url)).StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }
}
