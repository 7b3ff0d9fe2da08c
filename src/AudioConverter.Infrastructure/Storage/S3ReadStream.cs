using Amazon.S3;
using Amazon.S3.Model;

namespace AudioConverter.Infrastructure.Storage;

/// <summary>
/// A read-only, seekable view of one object: reads come from a ranged GET that starts at the current position
/// and is reopened after a Seek, so ASP.NET range processing can serve parts of a large object cheaply.
/// The ETag pins the version that was opened: an object replaced meanwhile fails rather than mixing two versions.
/// </summary>
internal sealed class S3ReadStream(IAmazonS3 client, string bucket, string key, long length, string etag) : Stream
{
    private GetObjectResponse? response;
    private Stream? body;
    private long position;
    private long bodyPosition = -1;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0 || position >= length)
        {
            return 0;
        }

        if (body is null || bodyPosition != position)
        {
            await OpenAtPositionAsync(cancellationToken);
        }

        var read = await body!.ReadAsync(buffer, cancellationToken);
        if (read == 0)
        {
            throw new IOException($"The object '{key}' ended at byte {position} of {length}.");
        }

        position += read;
        bodyPosition = position;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Synchronous reads are not used by ASP.NET or the worker; they are here for completeness.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            SeekOrigin.End => length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        position = target;
        return position;
    }

    private async Task OpenAtPositionAsync(CancellationToken cancellationToken)
    {
        CloseBody();
        response = await client.GetObjectAsync(new GetObjectRequest
        {
            BucketName = bucket,
            Key = key,
            ByteRange = new ByteRange(position, length - 1),
            EtagToMatch = etag,
        }, cancellationToken);
        body = response.ResponseStream;
        bodyPosition = position;
    }

    private void CloseBody()
    {
        body?.Dispose();
        response?.Dispose();
        body = null;
        response = null;
        bodyPosition = -1;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            CloseBody();
        }

        base.Dispose(disposing);
    }
}
