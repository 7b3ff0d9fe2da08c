using System.Net;
using AudioConverter.Tests.Fixtures;
using Xunit.Abstractions;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// A backend (broker, database, bucket) goes away for a few seconds while a user keeps uploading, then comes back.
/// Every backend is a private instance of the test, on its own port, so stopping it disturbs no other test.
/// In the gap the service answers 201 (the task is kept and published later) or 503 with a problem body, never a
/// 500 or no answer; afterwards it recovers by itself, and every task it accepted ends processed.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class BackendOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task StoppingAndRestartingRabbitMqWhileTasksFlowLosesNoTaskAndNeverAnswers500()
    {
        await using var broker = await PrivateRabbitMq.StartAsync();
        await RunOutageAsync(
            new Dictionary<string, string>
            {
                ["Queue:Provider"] = "RabbitMq",
                ["Queue:RabbitMq:Uri"] = broker.Uri,
                ["Queue:RabbitMq:PublishTimeoutSeconds"] = "2",
            },
            broker.StopAsync,
            broker.StartAgainAsync,
            expect503: false);
    }

    [Fact]
    public async Task RestartingPostgreSqlAnswers503InTheGapThenRecoversWithoutLosingATask()
    {
        await using var database = await PrivatePostgres.StartAsync();
        await RunOutageAsync(
            new Dictionary<string, string>
            {
                ["Database:Provider"] = "Postgres",
                ["Database:ConnectionString"] = database.ConnectionString("faults"),
            },
            database.StopAsync,
            database.StartAgainAsync,
            expect503: true);
    }

    [Fact]
    public async Task AnUnreachableS3StoreAnswers503InTheGapThenRecoversWithoutLosingATask()
    {
        await using var s3 = await PrivateS3rver.StartAsync();
        await RunOutageAsync(
            new Dictionary<string, string>
            {
                ["Storage:Provider"] = "S3",
                ["Storage:S3:ServiceUrl"] = s3.Endpoint,
                ["Storage:S3:Bucket"] = "faults",
                ["Storage:S3:AccessKey"] = "S3RVER",
                ["Storage:S3:SecretKey"] = "S3RVER",
                ["Storage:S3:CreateBucket"] = "true",
            },
            s3.StopAsync,
            s3.StartAgainAsync,
            expect503: true);
    }

    private async Task RunOutageAsync(Dictionary<string, string> backend, Func<Task> stop, Func<Task> startAgain, bool expect503)
    {
        var settings = new Dictionary<string, string>(backend)
        {
            ["Worker:Concurrency"] = "2",
            ["Worker:LeaseSeconds"] = "3",
        };
        var data = ServerProcess.NewDataDirectory();
        try
        {
            await RunOutageAsync(data, settings, stop, startAgain, expect503);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private async Task RunOutageAsync(string data, Dictionary<string, string> settings, Func<Task> stop, Func<Task> startAgain, bool expect503)
    {
        await using var server = await ServerProcess.StartAsync(data, settings);
        HttpClient Client() => new() { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var user = await Client().NewUserAsync(Client);

        await using var traffic = UploadTraffic.Start(user);
        await traffic.UntilAsync(a => a.Count(x => x.TaskId is not null) >= 3, TimeSpan.FromSeconds(30), "three uploads accepted before the outage");

        await stop();
        var down = DateTime.UtcNow;
        await traffic.UntilAsync(a => a.Count(x => x.At > down) >= 6 && DateTime.UtcNow - down > Outage, TimeSpan.FromSeconds(60), "requests answered while the backend is away");
        await startAgain();
        var up = DateTime.UtcNow;

        // Recovers by itself: no restart of the service, no operator.
        await traffic.UntilAsync(a => a.Count(x => x.At > up && x.TaskId is not null) >= 3, TimeSpan.FromSeconds(60), "three uploads accepted after the backend came back");
        var answers = await traffic.StopAsync();

        var gap = answers.Where(a => a.At > down && a.At <= up).ToList();
        output.WriteLine($"{answers.Count} answers, {gap.Count} in the {(up - down).TotalSeconds:F1} s gap: " +
            string.Join(", ", gap.GroupBy(a => $"{a.Request} {(int)a.Status}").Select(g => $"{g.Key} x{g.Count()}")));
        foreach (var answer in answers)
        {
            Assert.True(answer.Status is HttpStatusCode.Created or HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable,
                $"{answer.Request} answered {(int)answer.Status}: {answer.Body}\n{Tail(server.Output)}");
            if (answer.Status == HttpStatusCode.ServiceUnavailable)
            {
                Assert.Equal("application/problem+json", answer.MediaType);
                Assert.Contains("\"detail\"", answer.Body, StringComparison.Ordinal);
                Assert.DoesNotContain("   at ", answer.Body, StringComparison.Ordinal);
            }
        }

        if (expect503)
        {
            Assert.Contains(gap, a => a.Status == HttpStatusCode.ServiceUnavailable);
        }

        // Nothing accepted is lost: a task uploaded in the gap is published by the sweeper once the backend is back.
        var accepted = answers.Where(a => a.TaskId is not null).Select(a => a.TaskId!.Value).ToList();
        output.WriteLine($"{accepted.Count} tasks accepted, {gap.Count(a => a.TaskId is not null)} of them in the gap");
        foreach (var id in accepted)
        {
            var task = await user.WaitForTaskAsync(id, TimeSpan.FromSeconds(90));
            Assert.True(task.Status == "processed", $"task {id} ended {task.Status}\n{Tail(server.Output)}");
        }

        var last = accepted[^1];
        var converted = await user.GetByteArrayAsync($"/api/tasks/{last}/converted");
        var format = (await user.WaitForTaskAsync(last)).NewFormat;
        Assert.InRange(AudioSamples.Probe(converted, format).Duration, 0.8, 1.3);
    }

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(40));
}
