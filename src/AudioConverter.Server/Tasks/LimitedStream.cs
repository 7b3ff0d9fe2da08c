using System.Security.Cryptography;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// What the blob store reads an upload from: replays the inspected head, then the rest of the part, hashes the bytes
/// as they pass (SHA-256, so the stored file is never read a second time) and stops past the size limit.
/// </summary>
public sealed class LimitedStream(ReadOnlyMemory<byte> head, Stream inner, long maxBytes) : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private ReadOnlyMemory<byte> pending = head;
    private long total;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => total; set => throw new NotSupportedException(); }

    /// <summary>
    /// What reading the client's part threw (its body broke, ended early or passed the limit), or null. The blob store
    /// may wrap or replace what its content stream threw; this says whose fault the failed write was.
    /// </summary>
    public Exception? ClientFailure { get; private set; }

    /// <summary>The lower-case hex SHA-256 of everything read so far; call once, after the last read.</summary>
    public string Sha256() => Convert.ToHexStringLower(hash.GetHashAndReset());

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        if (!pending.IsEmpty)
        {
            read = Math.Min(buffer.Length, pending.Length);
            pending[..read].CopyTo(buffer);
            pending = pending[read..];
        }
        else
        {
            try
            {
                read = await inner.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException e) when (e is not BadHttpRequestException)
            {
                // The client's body ended or broke mid-file: the request's fault, not the store's.
                throw ClientFailure = new InvalidDataException("the upload ended before the file was complete", e);
            }
            catch (Exception e)
            {
                // Kestrel's 408/413, the request aborted: the client's too.
                ClientFailure = e;
                throw;
            }
        }

        total += read;
        if (total > maxBytes)
        {
            throw ClientFailure = new FileTooLargeException();
        }

        hash.AppendData(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>The upload passed the size limit; the request gets 413.</summary>
public sealed class FileTooLargeException : Exception;
