using System.Globalization;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace AudioConverter.Infrastructure.Storage;

/// <summary>
/// A read-only, seekable view of one object, read by ranged GETs that each have an end: a window that starts at
/// 1 MB and doubles while reads stay sequential (up to 64 MB), so a seek or a partial read (ASP.NET range
/// processing, a client that stops) never leaves a GET to the object's end open. The first GET, made on open, also
/// tells whether the object exists, its length and its ETag: there is no HEAD per download.
/// The ETag pins the version that was opened: an object replaced meanwhile fails rather than mixing two versions.
/// </summary>
internal sealed class S3ReadStream : Stream
{
    private const long FirstWindow = 1024 * 1024;
    private const long MaxWindow = 64 * 1024 * 1024;

    private readonly IAmazonS3 client;
    private readonly string bucket;
    private readonly string key;
    private readonly long length;
    private readonly string etag;
    private GetObjectResponse? response;
    private Stream? body;
    private long position;
    private long bodyPosition = -1;
    private long bodyEnd = -1;
    private long window = FirstWindow;

    private S3ReadStream(IAmazonS3 client, string bucket, string key, long length, string etag, GetObjectResponse? first)
    {
        this.client = client;
        this.bucket = bucket;
        this.key = key;
        this.length = length;
        this.etag = etag;
        if (first is not null)
        {
            response = first;
            body = first.ResponseStream;
            bodyPosition = 0;
            bodyEnd = first.ContentLength;
        }
    }

    /// <summary>Opens the object with a GET of its first window; null when it does not exist.</summary>
    public static async Task<Stream?> OpenAsync(IAmazonS3 client, string bucket, string key, CancellationToken cancellationToken)
    {
        GetObjectResponse first;
        try
        {
            first = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key, ByteRange = new ByteRange(0, FirstWindow - 1) }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // Only an empty object has no byte 0.
            return new MemoryStream([], writable: false);
        }

        // "bytes 0-1048575/31752044": the total after the slash; a server that ignored the range sent it all.
        var total = first.ContentRange is { } range && range.LastIndexOf('/') is var slash and > 0
            && long.TryParse(range.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : first.ContentLength;
        return new S3ReadStream(client, bucket, key, total, first.ETag, first);
    }

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

        if (body is null || bodyPosition != position || bodyPosition >= bodyEnd)
        {
            await OpenAtPositionAsync(sequential: body is not null && bodyPosition == position, cancellationToken);
        }

        var wanted = (int)Math.Min(buffer.Length, bodyEnd - bodyPosition);
        var read = await body!.ReadAsync(buffer[..wanted], cancellationToken);
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

    private async Task OpenAtPositionAsync(bool sequential, CancellationToken cancellationToken)
    {
        CloseBody();
        window = sequential ? Math.Min(window * 2, MaxWindow) : FirstWindow;
        var end = Math.Min(position + window, length) - 1;
        try
        {
            response = await client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = bucket,
                Key = key,
                ByteRange = new ByteRange(position, end),
                EtagToMatch = etag,
            }, cancellationToken);
        }
        catch (Exception e) when (S3BlobStore.IsS3Failure(e))
        {
            // A stream reports a failed read as an IOException, whatever the storage behind it.
            throw new IOException($"Storage:S3: reading '{key}' at byte {position} failed: {e.Message.ReplaceLineEndings(" ").Trim()}", e);
        }

        body = response.ResponseStream;
        bodyPosition = position;
        bodyEnd = end + 1;
    }

    private void CloseBody()
    {
        body?.Dispose();
        response?.Dispose();
        body = null;
        response = null;
        bodyPosition = -1;
        bodyEnd = -1;
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
