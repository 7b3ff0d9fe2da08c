using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// The deployed shape on private PostgreSQL, RabbitMQ and s3rver instances: one API and two worker processes.
/// A worker killed with SIGKILL in the middle of a conversion leaves its task to the other worker once its lease
/// expires: the task ends processed once, with one valid output in the bucket.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class DistributedCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task KillingAWorkerMidConversionLetsTheOtherWorkerFinishWithOneValidOutput()
    {
        await using var database = await PrivatePostgres.StartAsync();
        await using var broker = await PrivateRabbitMq.StartAsync();
        await using var s3 = await PrivateS3rver.StartAsync();
        var shared = new Dictionary<string, string>
        {
            ["Database:Provider"] = "Postgres",
            ["Database:ConnectionString"] = database.ConnectionString("faults"),
            ["Queue:Provider"] = "RabbitMq",
            ["Queue:RabbitMq:Uri"] = broker.Uri,
            ["Storage:Provider"] = "S3",
            ["Storage:S3:ServiceUrl"] = s3.Endpoint,
            ["Storage:S3:Bucket"] = "faults",
            ["Storage:S3:AccessKey"] = "S3RVER",
            ["Storage:S3:SecretKey"] = "S3RVER",
            ["Storage:S3:CreateBucket"] = "true",
            ["Auth:SigningKey"] = "distributed-crash-test-key-" + Guid.NewGuid().ToString("N"),
            ["Worker:Concurrency"] = "1",
            ["Worker:LeaseSeconds"] = "8",
        };
        var folders = new List<string>();
        ServerProcess? api = null, first = null, second = null;
        try
        {
            api = await ServerProcess.StartAsync(Folder(folders), With(shared, "Role", "api"));
            first = await ServerProcess.StartAsync(Folder(folders), With(shared, "Role", "worker"));
            second = await ServerProcess.StartAsync(Folder(folders), With(shared, "Role", "worker"));
            var workers = new[] { first, second };

            var user = await api.CreateClient().NewUserAsync(api.CreateClient);
            var id = (await user.UploadOkAsync(LongAudio.Flac(600), "long.flac", "mp3")).Id;

            // Kill whichever worker took the task, once ffmpeg is writing its output.
            ServerProcess? busy = null;
            await Deadline.UntilAsync(
                () => (busy = workers.FirstOrDefault(w => Deadline.FilesUnder(w.TempDirectory).Any(f => new FileInfo(f).Length > 0))) is not null,
                TimeSpan.FromSeconds(60),
                "a worker writing the conversion's output");
            busy!.KillHard();
            var survivor = busy == first ? second : first;
            output.WriteLine($"killed the worker on port {busy.Port} mid-conversion");

            var done = await user.WaitForTaskAsync(id, TimeSpan.FromSeconds(120));
            Assert.True(done.Status == "processed", $"task {id} ended {done.Status}: {done.Error}\n{survivor.Output}");

            await using (var db = new PostgresAppDbContext(new DbContextOptionsBuilder<PostgresAppDbContext>().UseNpgsql(database.ConnectionString("faults")).Options))
            {
                var row = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == id);
                Assert.Equal(ConversionStatus.Processed, row.Status);
                Assert.Equal(2, row.Attempts);
                Assert.Null(row.LeaseOwner);
                Assert.Contains($"Processed task {id} to ", survivor.Output, StringComparison.Ordinal);

                // One output in the bucket, the one the row names: the killed worker's half is not left behind.
                using var client = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config { ServiceURL = s3.Endpoint, ForcePathStyle = true });
                var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "faults", Prefix = "converted/" });
                Assert.Equal([row.OutputKey], (listed.S3Objects ?? []).Select(o => o.Key));
            }

            var bytes = await user.GetByteArrayAsync($"/api/tasks/{id}/converted");
            var probe = AudioSamples.Probe(bytes, "mp3");
            Assert.Equal("mp3", probe.Format);
            Assert.InRange(probe.Duration, 599, 601);
        }
        finally
        {
            foreach (var process in new[] { api, first, second })
            {
                if (process is not null)
                {
                    await process.DisposeAsync();
                }
            }

            foreach (var folder in folders)
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static string Folder(List<string> folders)
    {
        var folder = ServerProcess.NewDataDirectory();
        folders.Add(folder);
        return folder;
    }

    private static Dictionary<string, string> With(Dictionary<string, string> shared, string key, string value) =>
        new(shared) { [key] = value };
}
