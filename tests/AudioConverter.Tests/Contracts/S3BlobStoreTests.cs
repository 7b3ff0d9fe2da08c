using System.Security.Cryptography;
using AudioConverter.Core.Storage;
using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Storage;
using AudioConverter.Tests.Soak;

namespace AudioConverter.Tests.Contracts;

/// <summary>The S3 adapter against s3rver, one bucket per test.</summary>
public sealed class S3BlobStoreTests : BlobStoreContract
{
    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        var store = new S3BlobStore(ExternalServices.S3(ExternalServices.UniqueName("ac")));
        await store.SetUpAsync(default);
        return store;
    }

    [Fact]
    public async Task MissingBucketWithoutCreateBucketNamesTheSetting()
    {
        var options = ExternalServices.S3(ExternalServices.UniqueName("missing"));
        options.CreateBucket = false;
        using var store = new S3BlobStore(options);
        var error = await Assert.ThrowsAsync<BackendUnreachableException>(() => store.SetUpAsync(default));
        Assert.Contains("Storage:S3:Bucket", error.Message, StringComparison.Ordinal);
        Assert.False(await store.IsReadyAsync(default));
    }

    [Fact]
    public async Task AListingOfManyPagesReturnsEveryKeyUnderThePrefixOnce()
    {
        // Two keys a page over seven keys: four pages. s3rver answered the second page of the old v2 listing with a 500.
        var options = ExternalServices.S3(ExternalServices.UniqueName("paging"));
        using var store = new S3BlobStore(options, listPageSize: 2);
        await store.SetUpAsync(default);
        var keys = Enumerable.Range(0, 7).Select(i => $"originals/{i:D2}-{Guid.NewGuid():N}.mp3").ToList();
        foreach (var key in keys.Append("converted/other.wav"))
        {
            await store.PutAsync(key, new MemoryStream([1, 2, 3]), default);
        }

        var listed = new List<string>();
        await foreach (var blob in store.ListAsync("originals/", default))
        {
            Assert.True(blob.LastModifiedUtc > DateTime.UtcNow.AddHours(-1) && blob.LastModifiedUtc < DateTime.UtcNow.AddHours(1), $"{blob.Key} was written at {blob.LastModifiedUtc:O}");
            listed.Add(blob.Key);
        }

        Assert.Equal(keys.Order(StringComparer.Ordinal), listed);
    }

    [Fact]
    public async Task UnreachableEndpointIsNotReady()
    {
        var options = ExternalServices.S3("any");
        options.ServiceUrl = "http://127.0.0.1:9";
        using var store = new S3BlobStore(options);
        Assert.False(await store.IsReadyAsync(default));
    }

    /// <summary>
    /// Every connection to s3rver reset in the middle of its request (a TCP proxy the test cuts), as when the server dies
    /// under a request in flight and the AWS SDK lets the socket's raw IOException out: each operation a caller uses (the
    /// worker's download of its input and store of its output, a download, an upload, a reuse copy, the janitor's
    /// listing and delete) throws the port's BackendUnreachableException naming the setting, as the queues' adapters do.
    /// </summary>
    [Fact]
    public async Task EveryOperationCutOffMidRequestThrowsTheBackendUnreachableExceptionNamingTheSetting()
    {
        await using var proxy = new TcpProxy(new Uri(ExternalServices.S3Endpoint).Port);
        var options = ExternalServices.S3(ExternalServices.UniqueName("cut"));
        options.ServiceUrl = $"http://127.0.0.1:{proxy.Port}";
        using var store = new S3BlobStore(options);
        await store.SetUpAsync(default);
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        await store.PutAsync("originals/in.mp3", new MemoryStream(bytes), default);
        var work = Directory.CreateTempSubdirectory("ac-s3-cut-").FullName;
        try
        {
            var output = Path.Combine(work, "output.wav");
            await File.WriteAllBytesAsync(output, bytes);
            proxy.CutMidRequest();
            var operations = new (string Name, Func<Task> Run)[]
            {
                ("LocalFileAsync (the worker's input)", () => store.LocalFileAsync("originals/in.mp3", work, default)),
                ("PutFileAsync (the worker's output)", () => store.PutFileAsync("converted/out.wav", output, default)),
                ("OpenReadAsync (a download)", () => store.OpenReadAsync("originals/in.mp3", default)),
                ("PutAsync (an upload)", () => store.PutAsync("originals/new.mp3", new MemoryStream(bytes), default)),
                ("CopyAsync (a reused output)", () => store.CopyAsync("originals/in.mp3", "converted/copy.mp3", default)),
                ("DeleteAsync (the janitor)", () => store.DeleteAsync("originals/in.mp3", default)),
                ("ListAsync (the orphan scan)", async () =>
                {
                    await foreach (var _ in store.ListAsync("originals/", default))
                    {
                    }
                }),
            };
            foreach (var (name, run) in operations)
            {
                var error = await Record.ExceptionAsync(run);
                Assert.True(error is BackendUnreachableException, $"{name} threw {error?.GetType().FullName ?? "nothing"}: {error?.Message}");
                Assert.Contains("Storage:S3", error!.Message, StringComparison.Ordinal);
            }

            proxy.Restore();
            var input = await store.LocalFileAsync("originals/in.mp3", work, default);
            Assert.Equal(bytes, await File.ReadAllBytesAsync(input!));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// What the caller's own stream throws (a client's body that broke, a local file that could not be read) is passed
    /// on unchanged, in one PUT and in the middle of a multipart upload: it is not the bucket's failure, and an upload
    /// must still be able to tell a broken body (400) from a bucket away (503).
    /// </summary>
    [Theory]
    [InlineData(100_000)]
    [InlineData(7 * 1024 * 1024)]
    public async Task AContentStreamThatFailsIsTheCallersExceptionNotTheBucketsOne(int failAt)
    {
        var options = ExternalServices.S3(ExternalServices.UniqueName("content"));
        options.PartSizeMegabytes = 5;
        using var store = new S3BlobStore(options);
        await store.SetUpAsync(default);
        var broken = new IOException("the caller's stream broke");
        var error = await Record.ExceptionAsync(() => store.PutAsync("originals/broken.mp3", new FailingStream(failAt, broken), default));
        Assert.Same(broken, error);
        Assert.Null(await store.OpenReadAsync("originals/broken.mp3", default));
    }

    /// <summary>Zeros up to <c>failAt</c> bytes, then the given exception.</summary>
    private sealed class FailingStream(long failAt, Exception failure) : Stream
    {
        private long position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (position >= failAt)
            {
                throw failure;
            }

            var read = (int)Math.Min(count, failAt - position);
            Array.Clear(buffer, offset, read);
            position += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
