using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Contracts;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace AudioConverter.Tests.ScaleOut;

/// <summary>
/// The built program as separate processes, the way it is deployed: two APIs and three workers sharing PostgreSQL,
/// a broker and an S3 bucket. Every upload must end processed exactly once, and every worker must take a share.
/// </summary>
public sealed partial class ScaleOutTests(ITestOutputHelper output)
{
    // Enough for three workers to each take a share many times over; the chaos soak covers the long run.
    private const int Uploads = 60;
    private const int Workers = 3;
    private static readonly string[] Formats = ["ogg", "wav", "flac", "mp3"];

    [Fact]
    public Task TwoApisAndThreeWorkersOnRabbitMqProcessEveryUploadExactlyOnce() =>
        RunAsync("rabbitmq", name => new Dictionary<string, string>
        {
            ["Queue__Provider"] = "RabbitMq",
            ["Queue__RabbitMq__Uri"] = ExternalServices.RabbitMq,
            ["Queue__RabbitMq__QueueName"] = name,
        });

    [Fact]
    public Task TwoApisAndThreeWorkersOnPubSubProcessEveryUploadExactlyOnce() =>
        RunAsync("pubsub", name => new Dictionary<string, string>
        {
            ["Queue__Provider"] = "PubSub",
            ["Queue__PubSub__EmulatorHost"] = ExternalServices.PubSubEmulator,
            ["Queue__PubSub__ProjectId"] = "audioconverter-scale",
            ["Queue__PubSub__Topic"] = name,
            ["Queue__PubSub__Subscription"] = name + "-workers",
            ["Queue__PubSub__CreateResources"] = "true",
        });

    private async Task RunAsync(string queueKind, Func<string, Dictionary<string, string>> queueSettings)
    {
        var name = ExternalServices.UniqueName("scale");
        var database = name.Replace('-', '_');
        var connectionString = await ExternalServices.CreatePostgresDatabaseAsync(database);
        var folder = Path.Combine(Path.GetTempPath(), "ac-tests", name);
        var shared = new Dictionary<string, string>(queueSettings(name))
        {
            ["Database__Provider"] = "Postgres",
            ["Database__ConnectionString"] = connectionString,
            ["Storage__Provider"] = "S3",
            ["Storage__S3__ServiceUrl"] = ExternalServices.S3Endpoint,
            ["Storage__S3__Bucket"] = name,
            ["Storage__S3__AccessKey"] = "S3RVER",
            ["Storage__S3__SecretKey"] = "S3RVER",
            ["Storage__S3__CreateBucket"] = "true",
            ["Auth__SigningKey"] = "scale-out-test-signing-key-" + Guid.NewGuid().ToString("N"),
            ["RateLimits__AuthPermitsPerMinute"] = "100000",
            ["RateLimits__LoginsPerMinute"] = "100000",
            ["Worker__Concurrency"] = "1",
            ["Worker__SweepIntervalSeconds"] = "2",
        };
        var processes = new List<ServerProcess>();
        var clock = Stopwatch.StartNew();
        try
        {
            // All five start together: the workers and the second API wait for the first API's migrations.
            processes.Add(ServerProcess.Start("api-1", "api", With(shared, ("Database__MigrateOnStart", "true"))));
            processes.Add(ServerProcess.Start("api-2", "api", With(shared, ("Database__MigrateOnStart", "false"))));
            for (var i = 1; i <= Workers; i++)
            {
                processes.Add(ServerProcess.Start($"worker-{i}", "worker", With(shared, ("Worker__TempPath", Path.Combine(folder, $"worker-{i}")))));
            }

            await Task.WhenAll(processes.Select(p => p.WaitUntilReadyAsync(TimeSpan.FromSeconds(90))));
            output.WriteLine($"{queueKind}: 5 processes ready after {clock.Elapsed.TotalSeconds:F1} s");

            var apis = processes.Take(2).ToArray();
            var workers = processes.Skip(2).ToArray();
            var uploaded = await UploadAllAsync(apis);
            output.WriteLine($"{queueKind}: {Uploads} uploads accepted after {clock.Elapsed.TotalSeconds:F1} s");

            await using var db = new PostgresAppDbContext(new DbContextOptionsBuilder<PostgresAppDbContext>().UseNpgsql(connectionString).Options);
            await WaitForAllFinishedAsync(db, TimeSpan.FromSeconds(150));
            output.WriteLine($"{queueKind}: all processed after {clock.Elapsed.TotalSeconds:F1} s");

            var tasks = await db.Tasks.AsNoTracking().ToListAsync();
            Assert.Equal(Uploads, tasks.Count);
            Assert.All(tasks, t =>
            {
                Assert.True(t.Status == ConversionStatus.Processed, $"task {t.Id} is {t.Status}: {t.Error}");
                Assert.Equal(1, t.Attempts);
                Assert.Null(t.LeaseOwner);
            });

            // Each worker logs the tasks it finished: every task once in all the logs together, and every worker did its share.
            var processedBy = workers.ToDictionary(w => w.Name, w => w.Lines.Select(l => ProcessedLine().Match(l)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList());
            output.WriteLine($"{queueKind}: per worker {string.Join(", ", processedBy.Select(p => $"{p.Key}={p.Value.Count}"))}");
            var all = processedBy.Values.SelectMany(ids => ids).ToList();
            Assert.Equal(tasks.Select(t => t.Id).Order(), all.Order());
            Assert.All(processedBy, pair => Assert.True(pair.Value.Count >= Uploads / Workers / 3, $"{pair.Key} processed only {pair.Value.Count} of {Uploads} tasks"));

            await CheckDownloadsAsync(apis, uploaded);
            output.WriteLine($"{queueKind}: downloads checked after {clock.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
            await ExternalServices.DropPostgresDatabaseAsync(database);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>Four users, each uploading through both APIs in turn, eight uploads in flight at a time.</summary>
    private static async Task<ConcurrentBag<(HttpClient Client, TaskResponse Task)>> UploadAllAsync(ServerProcess[] apis)
    {
        var clients = new List<HttpClient>();
        foreach (var index in Enumerable.Range(0, 4))
        {
            var api = apis[index % apis.Length];
            using var anonymous = new HttpClient { BaseAddress = api.BaseAddress };
            var other = apis[(index + 1) % apis.Length];
            clients.Add(await anonymous.NewUserAsync(() => new HttpClient { BaseAddress = index % 2 == 0 ? other.BaseAddress : api.BaseAddress }));
        }

        var audio = AudioSamples.Get("mp3", 2);
        var uploaded = new ConcurrentBag<(HttpClient, TaskResponse)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Uploads), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            // Users 0 and 2 talk to one API, 1 and 3 to the other: tokens from one API must work on the other.
            var client = clients[i % clients.Count];
            // Each upload's bytes are its own (an ID3v1 tag naming it at the end), so every task is converted by a
            // worker: identical bytes would let the worker reuse an earlier output instead (ConversionReuse).
            var task = await client.UploadOkAsync([.. audio, .. Id3v1Tag($"song-{i}")], $"song-{i}.mp3", Formats[i % Formats.Length]);
            uploaded.Add((client, task));
        });
        return uploaded;
    }

    /// <summary>An ID3v1 tag (128 bytes at the end of an MP3) with the given title.</summary>
    private static byte[] Id3v1Tag(string title)
    {
        var tag = new byte[128];
        System.Text.Encoding.ASCII.GetBytes("TAG").CopyTo(tag, 0);
        System.Text.Encoding.ASCII.GetBytes(title[..Math.Min(title.Length, 30)]).CopyTo(tag, 3);
        tag[127] = 255;
        return tag;
    }

    private static Task WaitForAllFinishedAsync(PostgresAppDbContext db, TimeSpan timeout) => Deadline.UntilAsync(
        () => db.Tasks.CountAsync(t => t.Status != ConversionStatus.Processed && t.Status != ConversionStatus.Failed),
        unfinished => unfinished == 0,
        timeout,
        unfinished => $"every task to finish ({unfinished} still not finished)");

    /// <summary>Every output downloads through an API other than the one it was uploaded to; a sample is probed with ffprobe.</summary>
    private static async Task CheckDownloadsAsync(ServerProcess[] apis, ConcurrentBag<(HttpClient Client, TaskResponse Task)> uploaded)
    {
        var list = uploaded.ToList();
        await Parallel.ForEachAsync(list.Select((item, index) => (item, index)), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (entry, cancellationToken) =>
        {
            var ((client, task), index) = entry;
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(apis[index % 2].BaseAddress, $"/api/tasks/{task.Id}/converted"));
            request.Headers.Authorization = client.DefaultRequestHeaders.Authorization;
            using var http = new HttpClient();
            using var response = await http.SendAsync(request, cancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            Assert.True(bytes.Length > 1000, $"task {task.Id}: only {bytes.Length} bytes");
            if (index % 10 == 0)
            {
                var probe = AudioSamples.Probe(bytes, task.NewFormat);
                Assert.InRange(probe.Duration, 1.8, 2.3);
            }
        });
    }

    private static Dictionary<string, string> With(Dictionary<string, string> shared, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>(shared);
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    [GeneratedRegex(@"Processed task (\d+) to ")]
    private static partial Regex ProcessedLine();
}
