using System.IO.Compression;
using System.Net;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;
using Xunit.Abstractions;

namespace AudioConverter.Tests.Api;

/// <summary>GET /api/tasks/archive: many outputs as one ZIP, streamed, byte for byte, with flat memory.</summary>
public sealed class ArchiveTests(SharedApp app, ITestOutputHelper output) : IClassFixture<SharedApp>
{

    [Fact]
    public async Task A_zip_of_50_outputs_holds_every_output_byte_for_byte_and_memory_stays_flat_while_it_streams()
    {
        var user = await app.NewUserAsync();
        var audio = AudioSamples.Get("mp3", 2);
        var tasks = new List<TaskResponse>();
        for (var i = 0; i < 50; i++)
        {
            // Two share a name: the archive must still hold both.
            tasks.Add(await user.UploadOkAsync(audio, i < 2 ? "take.mp3" : $"take-{i:00}.mp3", "wav"));
        }

        foreach (var task in tasks)
        {
            Assert.Equal("processed", (await user.WaitForTaskAsync(task.Id, TimeSpan.FromMinutes(3))).Status);
        }

        var expected = new Dictionary<string, byte[]>();
        for (var i = 0; i < tasks.Count; i++)
        {
            expected[i == 0 ? "take.wav" : i == 1 ? "take (2).wav" : $"take-{i:00}.wav"] = await user.GetByteArrayAsync($"/api/tasks/{tasks[i].Id}/converted");
        }

        var path = Path.Combine(app.Factory.DataDirectory, "archive.zip");
        var buffer = new byte[81920];
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var workingSetBefore = Environment.WorkingSet;
        long archiveBytes = 0;
        using (var response = await user.GetAsync($"/api/tasks/archive?ids={string.Join(',', tasks.Select(t => t.Id))}", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("audioconverter-50-files.zip", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
            await using var body = await response.Content.ReadAsStreamAsync();
            await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, useAsync: true);
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                await file.WriteAsync(buffer.AsMemory(0, read));
                archiveBytes += read;
            }
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var workingSetGrowth = Environment.WorkingSet - workingSetBefore;
        var outputBytes = expected.Values.Sum(v => (long)v.Length);
        output.WriteLine($"archive {archiveBytes:N0} bytes for {outputBytes:N0} bytes of outputs; allocated while streaming {allocated:N0} bytes (client and server, one process); working set grew {workingSetGrowth:N0} bytes");

        // Built in memory, the archive alone would allocate at least its own size; streamed, what is allocated is buffers.
        Assert.True(archiveBytes > outputBytes);
        Assert.True(allocated < archiveBytes / 2, $"allocated {allocated:N0} bytes while streaming a {archiveBytes:N0}-byte archive");
        Assert.True(workingSetGrowth < archiveBytes, $"the working set grew {workingSetGrowth:N0} bytes while streaming a {archiveBytes:N0}-byte archive");

        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(expected.Keys.Order(), zip.Entries.Select(e => e.FullName).Order());
        foreach (var entry in zip.Entries)
        {
            await using var stream = entry.Open();
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.True(expected[entry.FullName].AsSpan().SequenceEqual(copy.ToArray()), $"{entry.FullName} differs from the task's output");
        }
    }

    [Fact]
    public async Task Bad_ids_someone_elses_tasks_and_unfinished_tasks_are_refused_before_anything_streams()
    {
        var user = await app.NewUserAsync();
        var task = await user.UploadOkAsync(AudioSamples.Get("mp3", 1), "a.mp3", "wav");
        await user.WaitForTaskAsync(task.Id);

        foreach (var query in new[] { "", "?ids=", "?ids=abc", "?ids=1;2", "?ids=-3", $"?ids={string.Join(',', Enumerable.Range(1, 201))}" })
        {
            var bad = await user.GetAsync($"/api/tasks/archive{query}");
            Assert.True(bad.StatusCode == HttpStatusCode.BadRequest, $"{query}: {bad.StatusCode}");
            Assert.True((await bad.ProblemAsync()).GetProperty("errors").TryGetProperty("ids", out _));
        }

        var other = await app.NewUserAsync();
        var theirs = await other.GetAsync($"/api/tasks/archive?ids={task.Id}");
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Contains(task.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), (await theirs.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var video = Path.Combine(app.Factory.DataDirectory, "silent.mkv");
        AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=5", "-c:v", "mpeg4", video]);
        var broken = await user.UploadOkAsync(await File.ReadAllBytesAsync(video), "clip.mkv", "wav");
        Assert.Equal("failed", (await user.WaitForTaskAsync(broken.Id)).Status);
        var unfinished = await user.GetAsync($"/api/tasks/archive?ids={task.Id},{broken.Id}");
        Assert.Equal(HttpStatusCode.Conflict, unfinished.StatusCode);
        Assert.Contains(broken.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), (await unfinished.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Factory.CreateClient().GetAsync($"/api/tasks/archive?ids={task.Id}")).StatusCode);
    }
}
