using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;

namespace AudioConverter.Tests.Soak;

/// <summary>A broken promise: which invariant, which task (when one), and what was seen.</summary>
public sealed record SoakViolation(string Invariant, long? TaskId, string Detail);

/// <summary>
/// The checks after the faults stop and the stack has settled: nothing accepted is lost, nothing is left half-done,
/// every output is whole and written once, nothing is left behind (blobs, queue messages, work folders).
/// </summary>
public sealed partial class SoakInvariants(SoakStack stack, SoakTraffic traffic)
{
    public const string NotSettled = "every task ends processed or failed (none left uploaded or processing)";
    public const string FailedNotInput = "a task fails only for the input's fault";
    public const string BadInputProcessed = "an input that is not audio ends failed";
    public const string Lost = "an accepted task that was not deleted still exists";
    public const string DeletedRemains = "a task deleted with 204 is gone";
    public const string OutputMissing = "every processed version's output exists in the bucket";
    public const string OutputMismatch = "the output matches the row's size and SHA-256";
    public const string OutputUndecodable = "the output decodes and has the input's length";
    public const string WrittenTwice = "exactly one output object per processed task version";
    public const string StaleWrite = "a claim that lost its lease leaves no output behind";
    public const string Orphan = "no blob without a row";
    public const string QueueLeft = "no message left in the queue";
    public const string DeadLettered = "no message in the dead-letter queue";
    public const string WorkFolderLeft = "no work folder left in a worker's temp folder";
    public const string ServerError = "no answer 500 or above other than 503";
    public const string GoodInputRefused = "a good input is never answered 400 (a backend away is a 503)";
    public const string RecoveryFailed = "every fault is recovered from (restart, SIGTERM exit 0)";
    public const string EventMissing = "every change has its task event (the outbox's source)";

    public List<SoakViolation> Violations { get; } = [];

    /// <summary>What the checks leave to other tests, and why.</summary>
    public List<string> Notes { get; } = [];

    public Dictionary<string, int> TaskCounts { get; } = [];

    /// <summary>Waits until no task is uploaded or processing; false when the deadline passed first.</summary>
    public async Task<bool> WaitForQuiescenceAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await using var db = Db();
                if (!await db.Tasks.AnyAsync(t => t.Status == ConversionStatus.Uploaded || t.Status == ConversionStatus.Processing))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException)
            {
                // The database is still coming back.
            }

            await Task.Delay(500);
        }

        return false;
    }

    /// <summary>
    /// Waits for a worker's orphan scan whose cutoff lies after <paramref name="settledAt"/>: that pass considered every
    /// blob written while the faults ran, so an orphan still there afterwards is one the janitor does not remove.
    /// Returns when the pass ended (null when none did before the deadline; the orphan check then runs all the same).
    /// </summary>
    public async Task<DateTime?> WaitForOrphanScanAsync(DateTime settledAt, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var worker in stack.Workers)
            {
                foreach (var line in worker.AllLines)
                {
                    if (OrphanScanDone().Match(line) is { Success: true } m
                        && DateTime.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind).ToUniversalTime() > settledAt)
                    {
                        return DateTime.UtcNow;
                    }
                }
            }

            await Task.Delay(500);
        }

        return null;
    }

    public async Task CheckAsync(IReadOnlyList<SoakFault> faults, Action<string> log)
    {
        foreach (var fault in faults.Where(f => f.Problem is not null))
        {
            Violations.Add(new(RecoveryFailed, null, $"fault #{fault.Number} {fault.Kind} of {fault.Target}: {fault.Problem}"));
        }

        foreach (var error in traffic.ServerErrors)
        {
            Violations.Add(new(ServerError, null, error));
        }

        foreach (var refusal in traffic.GoodInputsRefused)
        {
            Violations.Add(new(GoodInputRefused, null, refusal));
        }

        await using var db = Db();
        var rows = await db.Tasks.AsNoTracking().ToListAsync();
        var byId = rows.ToDictionary(t => t.Id);
        foreach (var group in rows.GroupBy(t => t.Status))
        {
            TaskCounts[$"rows {TaskResponseStatus(group.Key)}"] = group.Count();
        }

        var known = traffic.Tasks;
        TaskCounts["accepted (201)"] = known.Count;
        TaskCounts["accepted with a bad input"] = known.Count(t => t.BadInput);
        TaskCounts["deleted (204)"] = known.Count(t => t.Deleted);
        TaskCounts["maybe deleted (no clear answer)"] = known.Count(t => t.MaybeDeleted && !t.Deleted);
        TaskCounts["rows the client never heard of (upload without an answer)"] = rows.Count(r => known.All(k => k.Id != r.Id));

        foreach (var task in known)
        {
            var exists = byId.TryGetValue(task.Id, out var row);
            if (!exists && !task.Deleted && !task.MaybeDeleted)
            {
                Violations.Add(new(Lost, task.Id, task.Vanished ? "answered 404 although never deleted" : "no row"));
            }

            if (exists && task.Deleted)
            {
                Violations.Add(new(DeletedRemains, task.Id, $"row is {TaskResponseStatus(row!.Status)}"));
            }

            if (exists && task.BadInput && row!.Status == ConversionStatus.Processed)
            {
                Violations.Add(new(BadInputProcessed, task.Id, $"processed to {row.OutputKey}"));
            }
        }

        var badInputs = known.Where(t => t.BadInput).Select(t => t.Id).ToHashSet();
        foreach (var row in rows)
        {
            if (row.Status is ConversionStatus.Uploaded or ConversionStatus.Processing)
            {
                Violations.Add(new(NotSettled, row.Id, $"{TaskResponseStatus(row.Status)} (version {row.Version}, attempt {row.Attempts}, lease {row.LeaseOwner ?? "none"} until {row.LeaseExpiresAt:HH:mm:ss}, published {row.PublishedAt:HH:mm:ss}, not before {row.NotBefore:HH:mm:ss})"));
            }

            // A bad input the client uploaded may fail; anything else failing is the system's fault.
            if (row.Status == ConversionStatus.Failed && !badInputs.Contains(row.Id))
            {
                Violations.Add(new(FailedNotInput, row.Id, $"failed at attempt {row.Attempts}: {row.Error}"));
            }
        }

        log($"checked {rows.Count} rows; checking the bucket");
        var objects = await CheckBucketAsync(rows);
        log("checked the bucket; checking the task events, the logs and the work folders");
        await CheckEventsAsync(db, rows);
        CheckLogs(objects, rows.Select(r => r.OutputKey).OfType<string>().ToHashSet());
        await CheckWorkFoldersAsync();
        if (stack.Queue == SoakQueue.RabbitMq)
        {
            log("checking the queues");
            await CheckRabbitMqAsync();
        }
    }

    private async Task<List<string>> CheckBucketAsync(List<ConversionTask> rows)
    {
        using var s3 = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config { ServiceURL = stack.S3.Endpoint, ForcePathStyle = true, Timeout = TimeSpan.FromSeconds(20), MaxErrorRetry = 2 });
        // The v1 listing page by page: s3rver answers a truncated v2 listing with a 500.
        var objects = new List<S3Object>();
        var request = new ListObjectsRequest { BucketName = SoakStack.Bucket };
        ListObjectsResponse page;
        do
        {
            page = await s3.ListObjectsAsync(request);
            objects.AddRange(page.S3Objects ?? []);
            request.Marker = objects.Count > 0 ? objects[^1].Key : null;
        }
        while (page.IsTruncated == true);

        TaskCounts["objects in the bucket"] = objects.Count;
        var referenced = rows.SelectMany(r => new[] { r.InputKey, r.OutputKey }).Where(k => k is not null).ToHashSet();
        foreach (var orphan in objects.Where(o => !referenced.Contains(o.Key)))
        {
            var id = OutputOf().Match(orphan.Key) is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : (long?)null;
            var owner = id is null ? "" : rows.FirstOrDefault(r => r.Id == id) is { } row ? $" (task is {TaskResponseStatus(row.Status)} v{row.Version}, its output {row.OutputKey ?? "none"})" : " (task row gone)";
            Violations.Add(new(Orphan, id, $"{orphan.Key}, {orphan.Size} bytes{owner}"));
        }

        var outputsByTask = objects.Select(o => (Object: o, Match: OutputOf().Match(o.Key))).Where(x => x.Match.Success)
            .GroupBy(x => long.Parse(x.Match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.Select(x => x.Object).ToList());

        var folder = Path.Combine(stack.Root, "check");
        Directory.CreateDirectory(folder);
        foreach (var row in rows.Where(r => r.Status == ConversionStatus.Processed))
        {
            var outputs = outputsByTask.GetValueOrDefault(row.Id) ?? [];
            if (row.OutputKey is null || outputs.All(o => o.Key != row.OutputKey))
            {
                Violations.Add(new(OutputMissing, row.Id, $"row names {row.OutputKey ?? "no key"}; the bucket has {(outputs.Count == 0 ? "no output" : string.Join(", ", outputs.Select(o => o.Key)))}"));
                continue;
            }

            if (outputs.Count > 1)
            {
                Violations.Add(new(WrittenTwice, row.Id, $"v{row.Version} names {row.OutputKey}; the bucket has {string.Join(", ", outputs.Select(o => o.Key))}"));
            }

            using var response = await s3.GetObjectAsync(SoakStack.Bucket, row.OutputKey);
            using var memory = new MemoryStream();
            await response.ResponseStream.CopyToAsync(memory);
            var bytes = memory.ToArray();
            if (bytes.Length != row.OutputBytes)
            {
                Violations.Add(new(OutputMismatch, row.Id, $"{row.OutputKey} is {bytes.Length} bytes; the row says {row.OutputBytes}"));
            }

            // The output's SHA-256 is in the conversion's result (the row's InputSha256 is the original's).
            if (AudioConverter.Core.Media.ConversionResult.FromJson(row.Result)?.Output.Sha256 is not { Length: > 0 } recorded)
            {
                Violations.Add(new(OutputMismatch, row.Id, $"{row.OutputKey}: the row records no output SHA-256"));
            }
            else
            {
                var hash = SHA256.HashData(bytes);
                if (!recorded.Equals(Convert.ToHexString(hash), StringComparison.OrdinalIgnoreCase) && recorded != Convert.ToBase64String(hash))
                {
                    Violations.Add(new(OutputMismatch, row.Id, $"{row.OutputKey} has SHA-256 {Convert.ToHexStringLower(hash)}; the row says {recorded}"));
                }
            }

            var problem = Decode(bytes, Path.GetExtension(row.OutputKey).TrimStart('.'), folder);
            if (problem is not null)
            {
                Violations.Add(new(OutputUndecodable, row.Id, $"{row.OutputKey}: {problem}"));
            }
        }

        foreach (var row in rows.Where(r => r.Status != ConversionStatus.Processed))
        {
            if (outputsByTask.GetValueOrDefault(row.Id) is { Count: > 0 } outputs && row.Status == ConversionStatus.Failed)
            {
                Violations.Add(new(WrittenTwice, row.Id, $"failed, yet the bucket has {string.Join(", ", outputs.Select(o => o.Key))}"));
            }
        }

        return [.. objects.Select(o => o.Key)];
    }

    /// <summary>Null when the file decodes from start to end and lasts the input's second; otherwise what is wrong.</summary>
    private static string? Decode(byte[] bytes, string extension, string folder)
    {
        var path = Path.Combine(folder, Guid.NewGuid().ToString("N") + "." + extension);
        File.WriteAllBytes(path, bytes);
        try
        {
            AudioSamples.Run("ffmpeg", ["-v", "error", "-xerror", "-i", path, "-f", "null", "-"]);
            var duration = AudioSamples.Probe(bytes, extension).Duration;
            return duration is >= 0.8 and <= 1.3 ? null : $"lasts {duration:F2} s, the input 1 s";
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return e.Message.Split('\n')[0];
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// task_events is the change feed the event stream reads and the outbox's source (webhooks, e-mail), written in
    /// the transaction of each change, so a crash after a commit can lose no announcement: every row has its
    /// task.created, a settled row the task.processed or task.failed of its current version, and a task deleted with
    /// 204 its task.deleted. Delivery from the outbox is not checked here (the soak registers no webhook endpoint);
    /// WebhookCrashTests proves it: a server killed with SIGKILL after the commits still delivers every webhook.
    /// </summary>
    private async Task CheckEventsAsync(AppDbContext db, List<ConversionTask> rows)
    {
        var events = (await db.TaskEvents.AsNoTracking().Select(e => new { e.TaskId, e.Type, e.Version }).ToListAsync())
            .Select(e => (e.TaskId, e.Type, e.Version)).ToList();
        TaskCounts["task events"] = events.Count;
        Notes.Add("Events: checked that every change has its task event; their delivery as webhooks is not (no endpoint is registered here): WebhookCrashTests proves that.");
        var types = events.Select(e => (e.TaskId, e.Type)).ToHashSet();
        var versions = events.ToHashSet();
        foreach (var row in rows)
        {
            if (!types.Contains((row.Id, TaskEventTypes.Created)))
            {
                Violations.Add(new(EventMissing, row.Id, $"no {TaskEventTypes.Created}"));
            }

            var settled = row.Status switch
            {
                ConversionStatus.Processed => TaskEventTypes.Processed,
                ConversionStatus.Failed => TaskEventTypes.Failed,
                _ => null,
            };
            if (settled is not null && !versions.Contains((row.Id, settled, row.Version)))
            {
                Violations.Add(new(EventMissing, row.Id, $"{TaskResponseStatus(row.Status)} at version {row.Version}, no {settled} of that version"));
            }
        }

        foreach (var task in traffic.Tasks.Where(t => t.Deleted && !types.Contains((t.Id, TaskEventTypes.Deleted))))
        {
            Violations.Add(new(EventMissing, task.Id, $"deleted with 204, no {TaskEventTypes.Deleted}"));
        }
    }

    private void CheckLogs(List<string> objects, HashSet<string> referenced)
    {
        // A claim can store its output and only then find its lease gone (the renewal and the store race; outputs carry
        // the claim's fence, so the winner's is never touched). The worker then logs "Lost the lease of task N (fence F)"
        // and deletes what that claim stored: nothing under converted/N-v*-fF.* may remain.
        foreach (var worker in stack.Workers)
        {
            foreach (var match in worker.AllLines.Select(l => LeaseLostLine().Match(l)).Where(m => m.Success))
            {
                var (id, fence) = (match.Groups[1].Value, match.Groups[2].Value);
                foreach (var left in objects.Where(k => k.StartsWith($"converted/{id}-v", StringComparison.Ordinal) && k.Contains($"-f{fence}.", StringComparison.Ordinal) && !referenced.Contains(k)))
                {
                    Violations.Add(new(StaleWrite, long.Parse(id, System.Globalization.CultureInfo.InvariantCulture), $"{worker.Name} lost the lease (fence {fence}) and {left} is still in the bucket"));
                }
            }
        }
    }

    private async Task CheckWorkFoldersAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        List<string> left;
        do
        {
            // An empty folder of the installation's own (the lifecycle branch keeps one) is not a leftover; a file or a work folder is.
            left = [.. stack.Workers.SelectMany(w => Directory.Exists(w.TempDirectory)
                ? Directory.GetFiles(w.TempDirectory, "*", SearchOption.AllDirectories).Concat(Directory.GetDirectories(w.TempDirectory).SelectMany(Directory.GetDirectories))
                : [])];
            if (left.Count == 0)
            {
                return;
            }

            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);

        foreach (var entry in left)
        {
            Violations.Add(new(WorkFolderLeft, null, entry));
        }
    }

    private async Task CheckRabbitMqAsync()
    {
        var factory = new ConnectionFactory { Uri = new Uri(stack.Broker!.Uri), RequestedConnectionTimeout = TimeSpan.FromSeconds(20) };
        await using var connection = await factory.CreateConnectionAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        uint ready;
        while (true)
        {
            ready = await DepthAsync(connection, SoakStack.RabbitQueueName);
            if (ready == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(500);
        }

        TaskCounts["messages left in the queue"] = (int)ready;
        if (ready > 0)
        {
            Violations.Add(new(QueueLeft, null, $"{ready} messages ready in {SoakStack.RabbitQueueName} 30 s after every task settled (no consumer takes them)"));
        }

        var dead = await DepthAsync(connection, SoakStack.RabbitQueueName + ".dead");
        TaskCounts["messages in the dead-letter queue"] = (int)dead;
        if (dead > 0)
        {
            Violations.Add(new(DeadLettered, null, $"{dead} messages in {SoakStack.RabbitQueueName}.dead"));
        }
    }

    /// <summary>Pub/Sub: run once every process has stopped, so that nothing takes the messages the check pulls.</summary>
    public async Task CheckPubSubAsync()
    {
        var left = await SoakPubSub.PullRemainingAsync(stack);
        TaskCounts["messages left in the subscription"] = left;
        if (left > 0)
        {
            Violations.Add(new(QueueLeft, null, $"{left} messages still in {stack.PubSubSubscription} after every task settled"));
        }
    }

    private static async Task<uint> DepthAsync(IConnection connection, string queue)
    {
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    private AppDbContext Db() => new PostgresAppDbContext(new DbContextOptionsBuilder<PostgresAppDbContext>().UseNpgsql(stack.ConnectionString).Options);

    private static string TaskResponseStatus(ConversionStatus status) => status.ToString().ToLowerInvariant();

    [GeneratedRegex(@"^converted/(\d+)-")]
    private static partial Regex OutputOf();

    [GeneratedRegex(@"Orphan scan done: \d+ blobs written before (\S+) ")]
    private static partial Regex OrphanScanDone();

    [GeneratedRegex(@"Lost the lease of task (\d+) \(fence (\d+)\)")]
    private static partial Regex LeaseLostLine();
}
