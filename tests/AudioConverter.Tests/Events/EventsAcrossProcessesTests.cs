using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using AudioConverter.Tests.Contracts;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using Xunit.Abstractions;

namespace AudioConverter.Tests.Events;

/// <summary>
/// GET /api/events from the built program as separate processes. On PostgreSQL and RabbitMQ: two API processes and
/// one worker; the client streams from API #1 while it uploads and deletes through API #2, and the worker converts.
/// On the embedded defaults (SQLite, the in-process queue): one process in the role "both", since split roles need a
/// real queue. Either way the stream carries created, progress, processed and deleted, and a reconnect with
/// Last-Event-ID (on the other API, where there is one) resumes with the very same ids.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class EventsAcrossProcessesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task TwoApisAndAWorkerOnPostgresAndRabbitMqStreamEveryChangeAndResumeOnTheOtherApi()
    {
        var name = ExternalServices.UniqueName("events");
        var database = name.Replace('-', '_');
        var connectionString = await ExternalServices.CreatePostgresDatabaseAsync(database);
        var blobs = Path.Combine(Path.GetTempPath(), "ac-tests", name);
        var shared = new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["Database__ConnectionString"] = connectionString,
            ["Queue__Provider"] = "RabbitMq",
            ["Queue__RabbitMq__Uri"] = ExternalServices.RabbitMq,
            ["Queue__RabbitMq__QueueName"] = name,
            ["Storage__LocalPath"] = blobs,
            ["Auth__SigningKey"] = "events-test-signing-key-" + Guid.NewGuid().ToString("N"),
            ["Events__PollIntervalMilliseconds"] = "100",
            ["Events__GapWaitSeconds"] = "1",
        };
        var processes = new List<ServerProcess>();
        try
        {
            processes.Add(ServerProcess.Start("api-1", "api", new Dictionary<string, string>(shared) { ["Database__MigrateOnStart"] = "true" }));
            processes.Add(ServerProcess.Start("api-2", "api", new Dictionary<string, string>(shared) { ["Database__MigrateOnStart"] = "false" }));
            processes.Add(ServerProcess.Start("worker", "worker", new Dictionary<string, string>(shared) { ["Database__MigrateOnStart"] = "false" }));
            await Task.WhenAll(processes.Select(p => p.WaitUntilReadyAsync(Wait)));

            await StreamUploadDeleteAndResumeAsync(streamFrom: processes[0], uploadTo: processes[1]);

            // The conversion ran in the worker process, not in either API.
            Assert.Contains(processes[2].Lines, l => l.Contains("Processed task ", StringComparison.Ordinal));
            Assert.DoesNotContain(processes[0].Lines, l => l.Contains("Processed task ", StringComparison.Ordinal));
            Assert.DoesNotContain(processes[1].Lines, l => l.Contains("Processed task ", StringComparison.Ordinal));
        }
        finally
        {
            await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
            await ExternalServices.DropPostgresDatabaseAsync(database);
            if (Directory.Exists(blobs))
            {
                Directory.Delete(blobs, recursive: true);
            }
        }
    }

    [Fact]
    public async Task OneProcessOnTheEmbeddedDefaultsStreamsEveryChangeAndResumes()
    {
        var data = ServerProcess.NewDataDirectory();
        try
        {
            await using var server = await ServerProcess.StartAsync(data, new Dictionary<string, string> { ["Events:PollIntervalMilliseconds"] = "100" });
            await server.WaitUntilReadyAsync(Wait);
            await StreamUploadDeleteAndResumeAsync(streamFrom: server, uploadTo: server);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private async Task StreamUploadDeleteAndResumeAsync(ServerProcess streamFrom, ServerProcess uploadTo)
    {
        using var anonymous = streamFrom.CreateClient();
        using var streaming = await anonymous.NewUserAsync(streamFrom.CreateClient);
        using var uploading = uploadTo.CreateClient();
        uploading.DefaultRequestHeaders.Authorization = streaming.DefaultRequestHeaders.Authorization;

        List<SseMessage> seen;
        long taskId;
        await using (var stream = await SseStream.OpenAsync(streaming))
        {
            var task = await uploading.UploadOkAsync(AudioSamples.Get("mp3", 2), "song.mp3", "wav");
            taskId = task.Id;
            seen = await ReadUntilAsync(stream, "task.processed");
            Assert.Equal("processed", (await uploading.WaitForTaskAsync(taskId)).Status);
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await uploading.DeleteAsync($"/api/tasks/{taskId}")).StatusCode);
            seen.AddRange(await ReadUntilAsync(stream, "task.deleted"));
        }

        output.WriteLine($"{streamFrom.Name} streamed: {string.Join(", ", seen.Select(m => $"{m.Id} {m.Event}"))}");
        Assert.Equal("task.created", seen[0].Event);
        Assert.Contains(seen, m => m.Event == "task.progress");
        Assert.Equal("task.processed", seen[^2].Event);
        Assert.Equal("task.deleted", seen[^1].Event);
        Assert.DoesNotContain(seen, m => m.Event == "task.failed");
        Assert.All(seen, m => Assert.Equal(taskId, JsonDocument.Parse(m.Data).RootElement.GetProperty("id").GetInt64()));
        var ids = seen.ConvertAll(m => long.Parse(m.Id!, CultureInfo.InvariantCulture));
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal("processed", JsonDocument.Parse(seen[^2].Data).RootElement.GetProperty("status").GetString());

        // Resume after the created event on the other process: the same events, with the same ids, and nothing else.
        using var resuming = uploadTo.CreateClient();
        resuming.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", streaming.DefaultRequestHeaders.Authorization!.Parameter);
        await using var resumed = await SseStream.OpenAsync(resuming, seen[0].Id);
        var again = await ReadUntilAsync(resumed, "task.deleted");
        Assert.Equal(seen.Skip(1).Select(m => (m.Id, m.Event)), again.Select(m => (m.Id, m.Event)));
    }

    private static async Task<List<SseMessage>> ReadUntilAsync(SseStream stream, string type)
    {
        var messages = new List<SseMessage>();
        while (messages.LastOrDefault()?.Event != type)
        {
            messages.Add(await stream.NextAsync(Wait));
        }

        return messages;
    }
}
