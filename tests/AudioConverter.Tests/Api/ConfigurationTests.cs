using System.Net;
using AudioConverter.Tests.Fixtures;

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
    [InlineData("Admission__MaxQueuedTasks", "-1", "MaxQueuedTasks")]
    [InlineData("Telemetry__OtlpEndpoint", "collector:4318", "Telemetry:OtlpEndpoint")]
    [InlineData("Notifications__SmtpHost", "127.0.0.1", "Notifications:From")]
    public async Task AWrongSettingStopsTheProgramWithOneLineNamingIt(string key, string value, string named)
    {
        var role = key == "Role" ? value : "both";
        await using var server = ServerProcess.Start("config", role, new Dictionary<string, string> { [key] = value });

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"The program did not stop on a wrong setting:\n{server.Output}");
        Assert.Equal(2, server.ExitCode);
        var line = Assert.Single(server.Lines, l => l.StartsWith("AudioConverter cannot start:", StringComparison.Ordinal));
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePortVariableChoosesTheListeningPort()
    {
        var port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start("port", "both", new Dictionary<string, string> { ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/health/live")).StatusCode);
    }
}
