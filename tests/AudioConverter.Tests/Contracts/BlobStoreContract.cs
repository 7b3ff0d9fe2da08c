using System.Security.Cryptography;
using AudioConverter.Core.Storage;

namespace AudioConverter.Tests.Contracts;

/// <summary>What every blob store must do; each adapter runs these against its real backend.</summary>
public abstract class BlobStoreContract : IAsyncLifetime
{
    private IBlobStore? store;

    protected IBlobStore Store => store ?? throw new InvalidOperationException("The store was not created.");

    /// <summary>A store of its own for one test (a fresh folder or bucket).</summary>
    protected abstract Task<IBlobStore> CreateStoreAsync();

    /// <summary>Bigger than one part of a multipart upload where the store has parts.</summary>
    protected virtual int LargeObjectBytes => 11 * 1024 * 1024 + 123;

    public async Task InitializeAsync() => store = await CreateStoreAsync();

    public virtual Task DisposeAsync()
    {
        (store as IDisposable)?.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task StoredBytesReadBackExactly()
    {
        var bytes = RandomNumberGenerator.GetBytes(200_000);
        var written = await Store.PutAsync("originals/a.mp3", new MemoryStream(bytes), default);
        Assert.Equal(bytes.Length, written);
        Assert.Equal(bytes, await ReadAllAsync("originals/a.mp3"));
    }

    [Fact]
    public async Task LargeStreamOfUnknownLengthReadsBackExactly()
    {
        var bytes = RandomNumberGenerator.GetBytes(LargeObjectBytes);
        var written = await Store.PutAsync("converted/large.wav", new ForwardOnlyStream(bytes), default);
        Assert.Equal(bytes.Length, written);
        Assert.Equal(bytes, await ReadAllAsync("converted/large.wav"));
    }

    [Fact]
    public async Task EmptyStreamIsStoredAsAnEmptyObject()
    {
        Assert.Equal(0, await Store.PutAsync("originals/empty.bin", new ForwardOnlyStream([]), default));
        await using var stream = await Store.OpenReadAsync("originals/empty.bin", default);
        Assert.NotNull(stream);
        Assert.Equal(0, stream.Length);
        Assert.Equal(-1, stream.ReadByte());
    }

    [Fact]
    public async Task OpenedStreamIsSeekableAndKnowsItsLength()
    {
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        await Store.PutAsync("converted/seek.ogg", new MemoryStream(bytes), default);
        await using var stream = await Store.OpenReadAsync("converted/seek.ogg", default);
        Assert.NotNull(stream);
        Assert.True(stream.CanSeek);
        Assert.Equal(bytes.Length, stream.Length);

        stream.Seek(250_000, SeekOrigin.Begin);
        Assert.Equal(bytes[250_000..], await ReadToEndAsync(stream));

        stream.Position = 10;
        var head = new byte[100];
        await stream.ReadExactlyAsync(head);
        Assert.Equal(bytes[10..110], head);
        Assert.Equal(110, stream.Position);

        stream.Seek(-1000, SeekOrigin.End);
        Assert.Equal(bytes[^1000..], await ReadToEndAsync(stream));
    }

    [Fact]
    public async Task PuttingAnExistingKeyReplacesItsContent()
    {
        await Store.PutAsync("converted/1-v1.mp3", new MemoryStream(RandomNumberGenerator.GetBytes(50_000)), default);
        var second = RandomNumberGenerator.GetBytes(20_000);
        await Store.PutAsync("converted/1-v1.mp3", new MemoryStream(second), default);
        Assert.Equal(second, await ReadAllAsync("converted/1-v1.mp3"));
    }

    [Fact]
    public async Task AStoredFileReadsBackExactlyAndAFileForToolsHoldsTheObject()
    {
        var work = Directory.CreateTempSubdirectory("ac-blob-file-").FullName;
        try
        {
            var bytes = RandomNumberGenerator.GetBytes(LargeObjectBytes);
            var source = Path.Combine(work, "output.flac");
            await File.WriteAllBytesAsync(source, bytes);

            Assert.Equal(new StoredFile(bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes))), await Store.PutFileAsync("converted/9-v1-f1.flac", source, default));
            Assert.Equal(bytes, await ReadAllAsync("converted/9-v1-f1.flac"));

            // The store's own file or a copy in the work folder; either way ffmpeg can read the object from the path.
            var local = await Store.LocalFileAsync("converted/9-v1-f1.flac", work, default);
            Assert.NotNull(local);
            Assert.EndsWith(".flac", local, StringComparison.Ordinal);
            Assert.Equal(bytes, await File.ReadAllBytesAsync(local));
            Assert.Null(await Store.LocalFileAsync("converted/missing.flac", work, default));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task OpeningAMissingKeyReturnsNull()
    {
        Assert.Null(await Store.OpenReadAsync("originals/never-written.mp3", default));
    }

    [Fact]
    public async Task DeletingRemovesTheObjectAndDeletingAgainIsNotAnError()
    {
        await Store.PutAsync("originals/gone.flac", new MemoryStream([1, 2, 3]), default);
        await Store.DeleteAsync("originals/gone.flac", default);
        Assert.Null(await Store.OpenReadAsync("originals/gone.flac", default));
        await Store.DeleteAsync("originals/gone.flac", default);
    }

    [Fact]
    public async Task ACopyIsAnObjectOfItsOwn()
    {
        var bytes = RandomNumberGenerator.GetBytes(LargeObjectBytes);
        await Store.PutAsync("converted/1-v1-f1.wav", new MemoryStream(bytes), default);
        await Store.PutAsync("converted/2-v1-f1.wav", new MemoryStream([9, 9, 9]), default);

        Assert.Equal(bytes.Length, await Store.CopyAsync("converted/1-v1-f1.wav", "converted/2-v1-f1.wav", default));

        Assert.Equal(bytes, await ReadAllAsync("converted/2-v1-f1.wav"));
        await Store.DeleteAsync("converted/1-v1-f1.wav", default);
        Assert.Null(await Store.OpenReadAsync("converted/1-v1-f1.wav", default));
        Assert.Equal(bytes, await ReadAllAsync("converted/2-v1-f1.wav"));
        var listed = new List<string>();
        await foreach (var blob in Store.ListAsync("converted/", default))
        {
            listed.Add(blob.Key);
        }

        Assert.Equal(["converted/2-v1-f1.wav"], listed);
    }

    [Fact]
    public async Task WritingEitherSideOfACopyLeavesTheOther()
    {
        var original = RandomNumberGenerator.GetBytes(100_000);
        await Store.PutAsync("converted/4-v1-f1.mp3", new MemoryStream(original), default);
        await Store.CopyAsync("converted/4-v1-f1.mp3", "converted/5-v1-f1.mp3", default);

        var replacement = RandomNumberGenerator.GetBytes(50_000);
        await Store.PutAsync("converted/4-v1-f1.mp3", new MemoryStream(replacement), default);
        Assert.Equal(original, await ReadAllAsync("converted/5-v1-f1.mp3"));
        await Store.PutAsync("converted/5-v1-f1.mp3", new MemoryStream([7]), default);
        Assert.Equal(replacement, await ReadAllAsync("converted/4-v1-f1.mp3"));
    }

    [Fact]
    public async Task CopyingAMissingObjectReturnsNullAndWritesNothing()
    {
        Assert.Null(await Store.CopyAsync("converted/never-written.wav", "converted/3-v1-f1.wav", default));
        Assert.Null(await Store.OpenReadAsync("converted/3-v1-f1.wav", default));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.CopyAsync("converted/a.wav", "../outside.wav", default));
    }

    [Fact]
    public async Task KeysThatEscapeTheStoreAreRefused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync("../outside.mp3", new MemoryStream([1]), default));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync("/absolute.mp3", default));
    }

    [Fact]
    public async Task StoreSaysItIsReady()
    {
        Assert.True(await Store.IsReadyAsync(default));
    }

    private async Task<byte[]> ReadAllAsync(string key)
    {
        await using var stream = await Store.OpenReadAsync(key, default);
        Assert.NotNull(stream);
        return await ReadToEndAsync(stream);
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>A stream that cannot seek or tell its length, like an HTTP request body.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 70_000));
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer[..Math.Min(buffer.Length, 70_000)], cancellationToken);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
