using System.Net;
using System.Net.Http.Json;
using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Server.Tasks;
using AudioConverter.Server.Worker;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AudioConverter.Tests.Lifecycle;

/// <summary>
/// The outside review's smaller findings (issue 11), each through the real pipeline at the moment it describes: a
/// client gone right after the commit, the database failing between the body and the insert, a task deleted while
/// it is being converted again, a converted file removed under the worker. Where the moment needs a hook, the real
/// component is wrapped and the hook acts through the real API (an HTTP DELETE, a real abort) before passing on.
/// </summary>
public sealed class ReviewFindingTests
{
    [Fact]
    public async Task AClientThatGoesAwayRightAfterTheUploadIsCommittedDoesNotDelayItsTask()
    {
        // No sweep after the first (an hour apart): only the upload's own publish can start the conversion in time.
        using var app = new AppFactory(new Dictionary<string, string?> { ["Worker:SweepIntervalSeconds"] = "3600" });
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var factory = app.WithWebHostBuilder(b => b.ConfigureTestServices(services =>
        {
            services.AddHttpContextAccessor();
            services.RemoveAll<ITaskQueue>();
            services.AddSingleton<ITaskQueue>(p => new ClientGoesAwayBeforePublish(new InProcessTaskQueue(), p.GetRequiredService<IHttpContextAccessor>(), aborted));
        }));
        var user = await factory.CreateClient().NewUserAsync(factory.CreateClient);

        // The row is committed when the publish starts; the hook then aborts the request, as a client that disconnects does.
        try
        {
            using var response = await user.UploadAsync(AudioSamples.Get("mp3", 1), "song.mp3", "ogg");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            // The connection is gone: the client never hears the answer.
        }

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var tasks = await Deadline.UntilAsync(
            async () => (await user.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json))!,
            list => list.Count == 1 && list[0].Status is "processed" or "failed",
            TimeSpan.FromMinutes(3),
            list => $"the upload whose client went away to be converted without waiting for a sweep (it is {string.Join(", ", list.Select(t => t.Status))})");
        Assert.Equal("processed", tasks[0].Status);
    }

    [Fact]
    public async Task AnUploadWhoseSecondQuotaCheckThrowsLeavesNoStoredFileAndNoTask()
    {
        using var app = new KestrelApp();
        using var user = await app.NewUserAsync();
        var originals = Path.Combine(app.DataDirectory, "blobs", "originals");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var body = new PausedUpload(AudioSamples.Get("mp3", 1), gate.Task);
        var upload = user.PostAsync("/api/tasks", body);

        // The first check passed and the file is stored (its part ended); now the database fails the next read, as a
        // restart would, and only then does the rest of the body arrive.
        await Deadline.UntilAsync(() => Directory.Exists(originals) && Directory.GetFiles(originals).Any(f => !f.EndsWith(".partial", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the original to be stored");
        await using (var sqlite = new SqliteConnection($"Data Source={Path.Combine(app.DataDirectory, "app.db")}"))
        {
            await sqlite.OpenAsync();
            await using var rename = sqlite.CreateCommand();
            rename.CommandText = "ALTER TABLE tasks RENAME COLUMN InputBytes TO InputBytesGone";
            await rename.ExecuteNonQueryAsync();
        }

        gate.SetResult();
        using var response = await upload;

        Assert.True((int)response.StatusCode >= 500, $"the upload answered {(int)response.StatusCode}");
        Assert.Empty(Directory.GetFiles(originals));
    }

    [Fact]
    public async Task APutWhileTheTaskIsDeletedAtTheSameMomentAnswers404ProblemJsonAndLeavesNoFile()
    {
        using var app = new AppFactory();
        HttpClient? owner = null;
        var deletes = new List<HttpStatusCode>();
        using var factory = app.WithWebHostBuilder(b => b.ConfigureTestServices(services =>
        {
            var real = services.Single(d => d.ServiceType == typeof(IBlobStore));
            services.Remove(real);
            services.AddSingleton<IBlobStore>(p => new DeleteTaskWhenItsOutputGoes(
                (IBlobStore)(real.ImplementationInstance ?? real.ImplementationFactory?.Invoke(p) ?? ActivatorUtilities.CreateInstance(p, real.ImplementationType!)),
                async id => deletes.Add((await owner!.DeleteAsync($"/api/tasks/{id}")).StatusCode)));
        }));
        owner = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var task = await owner.UploadOkAsync(AudioSamples.Get("mp3", 1), "song.mp3", "ogg");
        Assert.Equal("processed", (await owner.WaitForTaskAsync(task.Id, TimeSpan.FromMinutes(3))).Status);

        // The PUT wins, and while it removes the old output a DELETE of the same task wins too.
        using var put = await owner.PutAsJsonAsync($"/api/tasks/{task.Id}", new { newFormat = "mp3" });

        Assert.Equal([HttpStatusCode.NoContent], deletes);
        Assert.Equal(HttpStatusCode.NotFound, put.StatusCode);
        Assert.False((await put.ProblemAsync()).GetProperty("detail").GetString() is null or "");
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/api/tasks/{task.Id}")).StatusCode);
        var blobs = Path.Combine(app.DataDirectory, "blobs");
        Assert.Empty(Directory.Exists(blobs) ? Directory.GetFiles(blobs, "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task AConversionWhoseOutputVanishedIsRetriedAsTheSystemsFaultNotFailedAsTheInputs()
    {
        // ffmpeg converts, then something else removes what it wrote (a cleaner, an operator), before the worker checks it.
        // The output is any file:.../output.* argument: an encoding's last argument is its null output for the peaks.
        await ProcessWithFfmpegAsync(
            "#!/bin/bash\nffmpeg \"$@\"\ncode=$?\nfor a in \"$@\"; do case \"$a\" in file:*/output.*) rm -f \"${a#file:}\" ;; esac; done\nexit $code\n",
            (harness, row) =>
            {
                Assert.Equal(ConversionStatus.Uploaded, row.Status);
                Assert.Equal((Attempts: 0, Retries: 1), (row.Attempts, row.Retries));
                Assert.NotNull(row.NotBefore);
                Assert.True(row.NotBefore > harness.Clock.GetUtcNow().UtcDateTime, $"the retry waits its backoff (not before {row.NotBefore:O})");
                Assert.Null(row.OutputKey);
            });
    }

    [Fact]
    public async Task AnOutputThatIsNotWhatWasAskedForFailsTheTaskAndSaysWhatDiffers()
    {
        // An ffmpeg that exits 0 with a valid file of the wrong shape (here: three channels for the stereo asked for),
        // as a build with a different default or a filter that changes the layout would. The worker reads the output
        // back with ffprobe before storing it; without that check the task would be processed with the wrong file.
        await ProcessWithFfmpegAsync(
            "#!/bin/bash\nargs=(); after_ac=0\nfor a in \"$@\"; do if [ $after_ac = 1 ]; then a=3; fi; [ \"$a\" = -ac ] && after_ac=1 || after_ac=0; args+=(\"$a\"); done\nexec ffmpeg \"${args[@]}\"\n",
            (_, row) =>
            {
                Assert.Equal(ConversionStatus.Failed, row.Status);
                Assert.Contains("it has 3 channels, not 2", row.Error, StringComparison.Ordinal);
                Assert.Null(row.OutputKey);
            });
    }

    /// <summary>
    /// One MP3 upload to Ogg processed once by the real TaskProcessor, with ffmpeg started through the given bash
    /// script (three attempts allowed); then the task's row is checked.
    /// </summary>
    private static async Task ProcessWithFfmpegAsync(string script, Action<LifecycleHarness, ConversionTask> check)
    {
        var scripts = Path.Combine(Path.GetTempPath(), "ac-tests", "ffmpeg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scripts);
        var wrapper = Path.Combine(scripts, "ffmpeg.sh");
        await File.WriteAllTextAsync(wrapper, script);
        await ExternalCommand.RunAsync("chmod", ["755", wrapper]);
        try
        {
            await using var harness = await LifecycleHarness.StartAsync("Sqlite", new Dictionary<string, string?> { ["Media:FfmpegPath"] = wrapper, ["Worker:MaxAttempts"] = "3" });
            var user = await harness.AddUserAsync("wrapped-ffmpeg");
            var task = await harness.UploadAsync(user, AudioSamples.Get("mp3", 1), newFormat: "ogg");
            var queue = new InProcessTaskQueue();
            await queue.PublishAsync(task.Id, default);

            await ActivatorUtilities.CreateInstance<TaskProcessor>(harness.Services).ProcessAsync(await queue.ReceiveAsync(default), CancellationToken.None);

            check(harness, await harness.RowAsync(task.Id));
        }
        finally
        {
            Directory.Delete(scripts, recursive: true);
        }
    }

    [Fact]
    public async Task AConversionIntoAFullTempFolderIsRetriedAsTheSystemsFaultNotFailedAsTheInputs()
    {
        // ffmpeg exits 0 with an empty file when its disk is full; the soak found a good upload failed as "not audio" that way.
        Assert.True(Environment.UserName == "root", "this test mounts a small tmpfs as the worker's temp folder, which needs root");
        var temp = Path.Combine(Path.GetTempPath(), "ac-tests", "full-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        await ExternalCommand.RunAsync("mount", ["-t", "tmpfs", "-o", "size=1m", "ac-full", temp]);
        try
        {
            await using var harness = await LifecycleHarness.StartAsync("Sqlite", new Dictionary<string, string?> { ["Worker:TempPath"] = temp, ["Worker:MaxAttempts"] = "3" });
            var user = await harness.AddUserAsync("full");
            var task = await harness.UploadAsync(user, AudioSamples.Get("flac", 1), newFormat: "wav");
            await Soak.SoakStack.FillAsync(temp, CancellationToken.None);
            var queue = new InProcessTaskQueue();
            await queue.PublishAsync(task.Id, default);

            await ActivatorUtilities.CreateInstance<TaskProcessor>(harness.Services).ProcessAsync(await queue.ReceiveAsync(default), CancellationToken.None);

            var row = await harness.RowAsync(task.Id);
            Assert.Equal(ConversionStatus.Uploaded, row.Status);
            Assert.Equal((Attempts: 0, Retries: 1), (row.Attempts, row.Retries));
            Assert.True(row.NotBefore > harness.Clock.GetUtcNow().UtcDateTime, $"the retry waits its backoff (not before {row.NotBefore:O})");
        }
        finally
        {
            await ExternalCommand.RunAsync("umount", ["-l", temp]);
            Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>The real queue; the upload's publish first aborts its own request, as a client that went away at that instant.</summary>
    private sealed class ClientGoesAwayBeforePublish(ITaskQueue inner, IHttpContextAccessor http, TaskCompletionSource aborted) : ITaskQueue
    {
        public async Task PublishAsync(long taskId, CancellationToken cancellationToken)
        {
            if (http.HttpContext is { Request.Method: "POST" } context && !aborted.Task.IsCompleted)
            {
                context.Abort();
                await Deadline.UntilAsync(() => context.RequestAborted.IsCancellationRequested, TimeSpan.FromSeconds(10), "the request to be aborted");
                aborted.TrySetResult();
            }

            await inner.PublishAsync(taskId, cancellationToken);
        }

        public bool IsDurable => inner.IsDurable;

        public Task<IQueueDelivery> ReceiveAsync(CancellationToken cancellationToken) => inner.ReceiveAsync(cancellationToken);

        public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => inner.IsReadyAsync(cancellationToken);
    }

    /// <summary>The real store; the first time a converted file is deleted, the task it belongs to is deleted through the API first.</summary>
    private sealed class DeleteTaskWhenItsOutputGoes(IBlobStore inner, Func<long, Task> deleteTask) : IBlobStore
    {
        private int fired;

        public Task<long> PutAsync(string key, Stream content, CancellationToken cancellationToken) => inner.PutAsync(key, content, cancellationToken);

        public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken) => inner.OpenReadAsync(key, cancellationToken);

        public Task<StoredFile> PutFileAsync(string key, string path, CancellationToken cancellationToken) => inner.PutFileAsync(key, path, cancellationToken);

        public Task<string?> LocalFileAsync(string key, string workFolder, CancellationToken cancellationToken) => inner.LocalFileAsync(key, workFolder, cancellationToken);

        public Task<long?> CopyAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken) => inner.CopyAsync(sourceKey, destinationKey, cancellationToken);

        public async Task DeleteAsync(string key, CancellationToken cancellationToken)
        {
            if (key.StartsWith("converted/", StringComparison.Ordinal) && Interlocked.Exchange(ref fired, 1) == 0)
            {
                await deleteTask(long.Parse(key["converted/".Length..].Split('-')[0], System.Globalization.CultureInfo.InvariantCulture));
            }

            await inner.DeleteAsync(key, cancellationToken);
        }

        public IAsyncEnumerable<StoredBlob> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => inner.IsReadyAsync(cancellationToken);
    }

    /// <summary>A multipart upload that sends the file part and the next part's headers, then waits before it ends.</summary>
    private sealed class PausedUpload : HttpContent
    {
        private const string Boundary = "paused-upload-boundary";
        private readonly byte[] file;
        private readonly Task gate;

        public PausedUpload(byte[] file, Task gate)
        {
            this.file = file;
            this.gate = gate;
            Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"fileName\"; filename=\"song.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\n"));
            await stream.WriteAsync(file);
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"\r\n--{Boundary}\r\nContent-Disposition: form-data; name=\"newFormat\"\r\n\r\n"));
            await stream.FlushAsync();
            await gate;
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"ogg\r\n--{Boundary}--\r\n"));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
