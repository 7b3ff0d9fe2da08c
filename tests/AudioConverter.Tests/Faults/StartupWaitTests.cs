using AudioConverter.Tests.Contracts;
using AudioConverter.Tests.Fixtures;
using AudioConverter.Tests.Soak;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// The soak's fault #226: an API stopped with SIGTERM and started again exited with code 2 on its first start, while
/// a backend was away longer than the fixed 30-second wait for the bucket and the queue. A start must wait for a
/// backend that is away, up to Startup:BackendWaitSeconds, instead of exiting. A real process; a real s3rver behind
/// a TCP proxy the test cuts.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class StartupWaitTests
{
    /// <summary>
    /// The bucket is unreachable when the process starts and for longer than the old fixed 30-second wait: start-up
    /// logs one line per attempt naming the setting and Startup:BackendWaitSeconds, does not exit, and serves once
    /// the store is back.
    /// </summary>
    [Fact]
    public async Task AProcessStartedWhileItsS3StoreIsAwayWaitsForItAndServesOnceItIsBack()
    {
        await using var proxy = new TcpProxy(new Uri(ExternalServices.S3Endpoint).Port);
        proxy.Cut();
        await using var server = ServerProcess.Start("s3-away", "both", new Dictionary<string, string>
        {
            ["Storage:Provider"] = "S3",
            ["Storage:S3:ServiceUrl"] = $"http://127.0.0.1:{proxy.Port}",
            ["Storage:S3:Bucket"] = ExternalServices.UniqueName("startup-wait"),
            ["Storage:S3:AccessKey"] = "S3RVER",
            ["Storage:S3:SecretKey"] = "S3RVER",
            ["Storage:S3:CreateBucket"] = "true",
        });

        await Deadline.UntilAsync(
            () => Task.FromResult(server.Lines.Any(IsWaitForS3) || server.HasExited),
            TimeSpan.FromSeconds(120),
            "the process to say it waits for the S3 store");
        var awaySince = DateTime.UtcNow;
        await Deadline.UntilAsync(
            () => Task.FromResult(DateTime.UtcNow - awaySince > TimeSpan.FromSeconds(35) || server.HasExited),
            TimeSpan.FromSeconds(60),
            "35 seconds with the store away");
        Assert.False(server.HasExited, $"the process exited with {(server.HasExited ? server.ExitCode : 0)} while the store was away:\n{server.Output}");

        proxy.Restore();
        await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
        var waits = server.Lines.Where(IsWaitForS3).ToList();
        Assert.True(waits.Count >= 2, server.Output);
        Assert.All(waits, l => Assert.Contains("Startup:BackendWaitSeconds", l, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", server.Output, StringComparison.Ordinal);

        using var anonymous = server.CreateClient();
        using var user = await anonymous.NewUserAsync(server.CreateClient);
        var task = await user.UploadOkAsync(AudioSamples.Get("mp3", 1), "back.mp3", "wav");
        Assert.Equal("processed", (await user.WaitForTaskAsync(task.Id, TimeSpan.FromSeconds(120))).Status);
    }

    private static bool IsWaitForS3(string line) => line.Contains("Waiting for Storage:S3", StringComparison.Ordinal);
}
