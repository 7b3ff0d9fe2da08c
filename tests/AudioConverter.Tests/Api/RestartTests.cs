using System.Net.Http.Json;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Api;

/// <summary>A host that stops with work queued or running loses nothing: the next start finishes every task.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task TasksQueuedWhenTheHostStopsAreProcessedAfterItStartsAgain()
    {
        var data = Path.Combine(Path.GetTempPath(), "ac-tests", Guid.NewGuid().ToString("N"));
        var ids = new List<long>();
        string token;

        // First life: one slow lane, short grace, stopped while the queue is still full.
        using (var first = new AppFactory(new Dictionary<string, string?> { ["Worker:Concurrency"] = "1", ["Worker:ShutdownGraceSeconds"] = "0" }, data))
        {
            var client = await first.CreateClient().NewUserAsync(first.CreateClient);
            token = client.DefaultRequestHeaders.Authorization!.Parameter!;
            for (var i = 0; i < 12; i++)
            {
                ids.Add((await client.UploadOkAsync(AudioSamples.Get("wav", 20), $"{i}.wav", i % 2 == 0 ? "mp3" : "flac")).Id);
            }

            var tasks = await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json);
            Assert.Contains(tasks!, t => t.Status is "uploaded" or "processing");
        }

        // Second life on the same data: the sweeper re-queues what was uploaded and reclaims what was running.
        using var second = new AppFactory(new Dictionary<string, string?> { ["Worker:LeaseSeconds"] = "2" }, data);
        var again = second.CreateClient();
        again.DefaultRequestHeaders.Authorization = new("Bearer", token);
        foreach (var id in ids)
        {
            var done = await again.WaitForTaskAsync(id, TimeSpan.FromSeconds(120));
            Assert.True(done.Status == "processed", $"task {id}: {done.Status} {done.Error}");
            var output = await again.GetByteArrayAsync($"/api/tasks/{id}/converted");
            Assert.InRange(AudioSamples.Probe(output, done.NewFormat).Duration, 19, 21);
        }

        // The work folder is the installation's own (tmp/{instance id}); no conversion left anything in it.
        Assert.Empty(Deadline.FilesLeftIn(Path.Combine(data, "tmp")));
    }
}
