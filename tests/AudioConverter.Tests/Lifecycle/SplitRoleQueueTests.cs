using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Lifecycle;

/// <summary>The in-process queue cannot carry messages between processes: split roles on it are refused at start with one line.</summary>
public sealed class SplitRoleQueueTests
{
    [Theory]
    [InlineData("api")]
    [InlineData("worker")]
    public async Task ASplitRoleOnTheInProcessQueueStopsWithOneLineNamingTheSetting(string role)
    {
        await using var server = ServerProcess.Start("split-" + role, role, new Dictionary<string, string> { ["Queue__Provider"] = "InProcess" });

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"The program started with --role {role} on the in-process queue:\n{server.Output}");
        Assert.Equal(2, server.ExitCode);
        var line = Assert.Single(server.Lines, l => l.StartsWith("AudioConverter cannot start:", StringComparison.Ordinal));
        Assert.Contains("Queue:Provider", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Output, StringComparison.Ordinal);
    }
}
