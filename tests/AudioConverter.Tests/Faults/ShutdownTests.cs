using System.Diagnostics;
using System.Net.Http.Headers;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Faults;

[Collection(ProcessCollection.Name)]
public sealed class ShutdownTests
{
    [Fact]
    public async Task SigtermHandsBackAConversionThatOutlastsTheGraceAndExitsZero()
    {
        var data = ServerProcess.NewDataDirectory();
        var settings = new Dictionary<string, string> { ["Worker:Concurrency"] = "1", ["Worker:ShutdownGraceSeconds"] = "1" };
        long id;
        AuthenticationHeaderValue token;
        await using (var server = await ServerProcess.StartAsync(data, settings))
        {
            var user = await server.CreateClient().NewUserAsync(server.CreateClient);
            token = user.DefaultRequestHeaders.Authorization!;
            id = (await user.UploadOkAsync(LongAudio.Flac(600), "long.flac", "mp3")).Id;
            await Deadline.UntilAsync(() => Deadline.FilesUnder(server.TempDirectory).Any(f => new FileInfo(f).Length > 0), TimeSpan.FromSeconds(60), "the conversion writing its output");

            var stopwatch = Stopwatch.StartNew();
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"shutdown took {stopwatch.Elapsed}");

            var row = await TaskRows.ReadAsync(server.DatabasePath, id);
            Assert.Equal("Uploaded", row.Status);
            Assert.Equal(0, row.Attempts);
            Assert.Null(row.LeaseOwner);
            Assert.Empty(server.ChildToolProcesses());
            Assert.Empty(Deadline.FilesLeftIn(server.TempDirectory));
            Assert.Contains("Handed task", server.Output, StringComparison.Ordinal);
        }

        // The handed-back task is converted by the next process, from the start.
        await using var next = await ServerProcess.StartAsync(data, new Dictionary<string, string> { ["Worker:Concurrency"] = "1" });
        var client = next.CreateClient();
        client.DefaultRequestHeaders.Authorization = token;
        Assert.Equal("processed", (await client.WaitForTaskAsync(id, TimeSpan.FromSeconds(180))).Status);
        Assert.Equal(1, (await TaskRows.ReadAsync(next.DatabasePath, id)).Attempts);
    }

    [Fact]
    public async Task SigtermLetsTheRunningConversionFinishTakesNoNewWorkAndExitsZero()
    {
        var data = ServerProcess.NewDataDirectory();
        var settings = new Dictionary<string, string> { ["Worker:Concurrency"] = "1", ["Worker:ShutdownGraceSeconds"] = "120" };
        await using var server = await ServerProcess.StartAsync(data, settings);
        var user = await server.CreateClient().NewUserAsync(server.CreateClient);
        var running = (await user.UploadOkAsync(LongAudio.Flac(300), "running.flac", "mp3")).Id;
        var waiting = (await user.UploadOkAsync(AudioSamples.Get("mp3"), "waiting.mp3", "wav")).Id;
        await Deadline.UntilAsync(() => Deadline.FilesUnder(server.TempDirectory).Any(f => new FileInfo(f).Length > 0), TimeSpan.FromSeconds(60), "the first conversion writing its output");
        Assert.Equal("Uploaded", (await TaskRows.ReadAsync(server.DatabasePath, waiting)).Status);

        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(150)));

        var finished = await TaskRows.ReadAsync(server.DatabasePath, running);
        Assert.Equal("Processed", finished.Status);
        Assert.True(File.Exists(Path.Combine(server.BlobDirectory, finished.OutputKey!)));
        var untouched = await TaskRows.ReadAsync(server.DatabasePath, waiting);
        Assert.Equal("Uploaded", untouched.Status);
        Assert.Equal(0, untouched.Attempts);
        Assert.Empty(Deadline.FilesLeftIn(server.TempDirectory));
    }
}
