using System.Security.Cryptography;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace AudioConverter.Server.Idempotency;

/// <summary>
/// SHA-256 over the method, the path and the body as it streams past. A multipart body's boundary is left out (each
/// occurrence hashes as a fixed marker), because a client's retry of the same upload usually picks a new random boundary.
/// </summary>
public sealed class RequestFingerprint : IDisposable
{
    private static readonly byte[] Marker = "--boundary--"u8.ToArray();
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[]? boundary;
    private byte[] window = new byte[16 * 1024];
    private int carried;

    public RequestFingerprint(HttpRequest request)
    {
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method.ToUpperInvariant()} {request.Path.Value?.TrimEnd('/')}\n"));
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase)
            && HeaderUtilities.RemoveQuotes(type.Boundary).Value is { Length: > 0 } value)
        {
            boundary = Encoding.ASCII.GetBytes(value);
        }
    }

    /// <summary>Adds bytes that were read from the body.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (boundary is null)
        {
            hash.AppendData(data);
            return;
        }

        // The last boundary-length-minus-one bytes are held back: a boundary may straddle two reads.
        var needed = carried + data.Length;
        if (window.Length < needed)
        {
            Array.Resize(ref window, Math.Max(needed, window.Length * 2));
        }

        data.CopyTo(window.AsSpan(carried));
        var span = window.AsSpan(0, needed);
        var start = 0;
        int found;
        while ((found = span[start..].IndexOf(boundary)) >= 0)
        {
            hash.AppendData(span.Slice(start, found));
            hash.AppendData(Marker);
            start += found + boundary.Length;
        }

        var keep = Math.Min(boundary.Length - 1, needed - start);
        hash.AppendData(span[start..(needed - keep)]);
        span[(needed - keep)..].CopyTo(window);
        carried = keep;
    }

    public string Finish()
    {
        hash.AppendData(window.AsSpan(0, carried));
        carried = 0;
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public void Dispose() => hash.Dispose();
}

/// <summary>The request body, passed through unchanged, fed to a fingerprint on the way.</summary>
public sealed class FingerprintingStream(Stream inner, RequestFingerprint fingerprint) : Stream
{
    public bool ReachedEnd { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        fingerprint.Append(buffer.Span[..read]);
        ReachedEnd |= read == 0 && buffer.Length > 0;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads whatever the endpoint left unread, so the fingerprint covers the whole body.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (await ReadAsync(buffer, cancellationToken) > 0)
        {
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The request body is read asynchronously.");
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>The response body, written through to the client and copied (up to a limit) so it can be stored.</summary>
public sealed class CapturingStream(Stream inner, int limit) : Stream
{
    private readonly MemoryStream copy = new();

    /// <summary>False once the body outgrew the limit: it is then not stored.</summary>
    public bool Complete { get; private set; } = true;

    public byte[] Captured => copy.ToArray();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Keep(buffer.Span);
        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        Keep(buffer.AsSpan(offset, count));
        inner.Write(buffer, offset, count);
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        copy.Dispose();
        base.Dispose(disposing);
    }

    private void Keep(ReadOnlySpan<byte> data)
    {
        if (!Complete)
        {
            return;
        }

        if (copy.Length + data.Length > limit)
        {
            Complete = false;
            copy.SetLength(0);
            return;
        }

        copy.Write(data);
    }
}
