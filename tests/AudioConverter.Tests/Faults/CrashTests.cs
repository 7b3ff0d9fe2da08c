using System.Net;
using System.Net.Http.Headers;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Faults;

[Collection(ProcessCollection.Name)]
public sealed class CrashTests
{
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Worker:Concurrency"] = "1",
        ["Worker:LeaseSeconds"] = "3",
        ["Worker:OrphanBlobSeconds"] = "2",
        // The half-written upload may still be younger than the orphan age at the restart's first scan; the next scan
        // (a second later, not the default five minutes) removes it.
        ["Worker:JanitorIntervalSeconds"] = "1",
    };

    [Fact]
    public async Task KillingTheServerMidConversionLosesNothingAndLeavesNothingBehind()
    {
        var data = ServerProcess.NewDataDirectory();
        long id;
        AuthenticationHeaderValue token;
        await using (var first = await ServerProcess.StartAsync(data, Settings))
        {
            var user = await first.CreateClient().NewUserAsync(first.CreateClient);
            token = user.DefaultRequestHeaders.Authorization!;
            id = (await user.UploadOkAsync(LongAudio.Flac(600), "long.flac", "mp3")).Id;

            // Kill only once ffmpeg is writing the output: the crash lands in the middle of the conversion.
            await Deadline.UntilAsync(() => Deadline.FilesUnder(first.TempDirectory).Any(f => new FileInfo(f).Length > 0), TimeSpan.FromSeconds(60), "the conversion writing its output");
            first.KillHard();
            Assert.NotEmpty(Deadline.FilesUnder(first.TempDirectory));
            Assert.Equal("Processing", (await TaskRows.ReadAsync(first.DatabasePath, id)).Status);
        }

        await using var second = await ServerProcess.StartAsync(data, Settings);
        var client = second.CreateClient();
        client.DefaultRequestHeaders.Authorization = token;
        var done = await client.WaitForTaskAsync(id, TimeSpan.FromSeconds(180));

        Assert.Equal("processed", done.Status);
        var row = await TaskRows.ReadAsync(second.DatabasePath, id);
        Assert.Equal(2, row.Attempts);
        var converted = Deadline.FilesUnder(Path.Combine(second.BlobDirectory, "converted"));
        Assert.Equal([Path.Combine(second.BlobDirectory, row.OutputKey!)], converted);
        Assert.DoesNotContain(Deadline.FilesUnder(second.BlobDirectory), f => f.EndsWith(".partial", StringComparison.Ordinal));

        var output = await client.GetByteArrayAsync($"/api/tasks/{id}/converted");
        var probe = AudioSamples.Probe(output, "mp3");
        Assert.Equal("mp3", probe.Format);
        Assert.InRange(probe.Duration, 599, 601);
        // The temp folder holds the installation's own work folder (tmp/{instance id}); no conversion's folder is left in it.
        await Deadline.UntilAsync(() => Deadline.FilesLeftIn(second.TempDirectory).Length == 0 && Directory.GetDirectories(second.TempDirectory).All(d => Directory.GetDirectories(d).Length == 0),
            TimeSpan.FromSeconds(20), "the temp folder to be empty");
    }

    [Fact]
    public async Task KillingTheServerMidUploadLeavesNoTaskAndNoOrphanAndTheNextUploadWorks()
    {
        var data = ServerProcess.NewDataDirectory();
        AuthenticationHeaderValue token;
        await using (var first = await ServerProcess.StartAsync(data, Settings))
        {
            var user = await first.CreateClient().NewUserAsync(first.CreateClient);
            token = user.DefaultRequestHeaders.Authorization!;
            using var body = new StalledUpload(200 * 1024 * 1024, sendBeforeStalling: 4 * 1024 * 1024);
            var upload = user.PostAsync("/api/tasks", body);

            var originals = Path.Combine(first.BlobDirectory, "originals");
            await Deadline.UntilAsync(() => Deadline.FilesUnder(originals).Any(f => f.EndsWith(".partial", StringComparison.Ordinal) && new FileInfo(f).Length > 1024 * 1024),
                TimeSpan.FromSeconds(60), "the upload half written to disk");
            first.KillHard();
            // The server is gone mid-body: the client sees the connection drop, not an answer.
            var dropped = await Assert.ThrowsAsync<HttpRequestException>(() => upload);
            Assert.Null(dropped.StatusCode);

            Assert.Equal(0, await TaskRows.CountAsync(first.DatabasePath));
            var left = Deadline.FilesUnder(originals);
            Assert.NotEmpty(left);
            Assert.All(left, f => Assert.EndsWith(".partial", f, StringComparison.Ordinal));
        }

        await using var second = await ServerProcess.StartAsync(data, Settings);
        await Deadline.UntilAsync(() => Deadline.FilesLeftIn(second.BlobDirectory).Length == 0, TimeSpan.FromSeconds(30), "the half-written upload to be removed");

        var client = second.CreateClient();
        client.DefaultRequestHeaders.Authorization = token;
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "next.mp3", "wav");
        Assert.Equal("processed", (await client.WaitForTaskAsync(task.Id)).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/tasks/{task.Id}/converted")).StatusCode);
    }
}
