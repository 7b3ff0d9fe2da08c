using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// Reads multipart/form-data straight from the request's pipe: the boundary is found with a vectorised search over
/// Kestrel's own buffers, and a part's bytes are copied once, into the reader of <see cref="Body"/>.
/// Framing errors are <see cref="InvalidDataException"/>s with a message for the client.
/// </summary>
public sealed class MultipartBodyReader
{
    private const int HeadersLengthLimit = 8 * 1024;
    private const int HeadersCountLimit = 16;
    private static readonly byte[] HeadersEnd = "\r\n\r\n"u8.ToArray();

    private readonly PipeReader pipe;

    /// <summary>CRLF, two dashes and the boundary: what ends every part.</summary>
    private readonly byte[] delimiter;
    private bool started;
    private bool finished;
    private bool inPart;

    public MultipartBodyReader(PipeReader pipe, string boundary)
    {
        this.pipe = pipe;
        delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        Body = new PartStream(this);
    }

    /// <summary>The current part's content; reads 0 at the part's end. Parts not read to the end are skipped.</summary>
    public Stream Body { get; }

    /// <summary>The next part's Content-Disposition (null when it has none), or false at the closing boundary.</summary>
    public async ValueTask<(bool Found, ContentDispositionHeaderValue? Disposition)> NextAsync(CancellationToken cancellationToken)
    {
        if (inPart)
        {
            await Body.CopyToAsync(Stream.Null, cancellationToken);
        }

        if (!started)
        {
            // The first boundary has no CRLF before it (a preamble, rare, is skipped up to it).
            await SkipPastAsync(delimiter.AsMemory(2), "the body does not start with its boundary", cancellationToken);
            started = true;
        }

        if (finished || !await AfterBoundaryAsync(cancellationToken))
        {
            finished = true;
            return (false, null);
        }

        var disposition = await ReadHeadersAsync(cancellationToken);
        inPart = true;
        return (true, disposition);
    }

    /// <summary>After a boundary: "--" closes the body, CRLF starts a part.</summary>
    private async ValueTask<bool> AfterBoundaryAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await pipe.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length >= 2)
            {
                if (StartsWith(buffer, "--"u8))
                {
                    // The epilogue after the closing boundary is ignored.
                    pipe.AdvanceTo(buffer.End);
                    return false;
                }

                if (StartsWith(buffer, "\r\n"u8))
                {
                    pipe.AdvanceTo(buffer.GetPosition(2));
                    return true;
                }

                pipe.AdvanceTo(buffer.Start);
                throw new InvalidDataException("a boundary is followed by neither a line break nor '--'");
            }

            if (result.IsCompleted)
            {
                pipe.AdvanceTo(buffer.End);
                throw new InvalidDataException("the body ended before the closing boundary");
            }

            pipe.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private async ValueTask<ContentDispositionHeaderValue?> ReadHeadersAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await pipe.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            // A part with no headers at all starts straight with the blank line (a header line never starts with CRLF).
            if (buffer.Length >= 2 && StartsWith(buffer, "\r\n"u8))
            {
                pipe.AdvanceTo(buffer.GetPosition(2));
                return null;
            }

            var end = IndexOf(buffer.Slice(0, Math.Min(buffer.Length, HeadersLengthLimit + HeadersEnd.Length)), HeadersEnd);
            if (end >= 0)
            {
                if (end > HeadersLengthLimit)
                {
                    pipe.AdvanceTo(buffer.Start);
                    throw new InvalidDataException($"a part's headers are longer than {HeadersLengthLimit} bytes");
                }

                var text = Encoding.Latin1.GetString(buffer.Slice(0, end));
                pipe.AdvanceTo(buffer.GetPosition(end + HeadersEnd.Length));
                return ParseHeaders(text);
            }

            if (buffer.Length > HeadersLengthLimit + HeadersEnd.Length)
            {
                pipe.AdvanceTo(buffer.Start);
                throw new InvalidDataException($"a part's headers are longer than {HeadersLengthLimit} bytes");
            }

            if (result.IsCompleted)
            {
                pipe.AdvanceTo(buffer.End);
                throw new InvalidDataException("the body ended inside a part's headers");
            }

            pipe.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static ContentDispositionHeaderValue? ParseHeaders(string text)
    {
        ContentDispositionHeaderValue? disposition = null;
        var lines = text.Split("\r\n");
        if (lines.Length > HeadersCountLimit)
        {
            throw new InvalidDataException($"a part has more than {HeadersCountLimit} headers");
        }

        foreach (var line in lines)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new InvalidDataException("a part's header line has no name");
            }

            if (line.AsSpan(0, colon).Trim().Equals("Content-Disposition", StringComparison.OrdinalIgnoreCase)
                && ContentDispositionHeaderValue.TryParse(line.AsSpan(colon + 1).Trim().ToString(), out var parsed))
            {
                disposition = parsed;
            }
        }

        return disposition;
    }

    private async ValueTask SkipPastAsync(ReadOnlyMemory<byte> marker, string error, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await pipe.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var at = IndexOf(buffer, marker.Span);
            if (at >= 0)
            {
                pipe.AdvanceTo(buffer.GetPosition(at + marker.Length));
                return;
            }

            if (result.IsCompleted || buffer.Length > HeadersLengthLimit)
            {
                pipe.AdvanceTo(buffer.End);
                throw new InvalidDataException(error);
            }

            pipe.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Copies the current part's next bytes into <paramref name="destination"/>; 0 at the part's end.</summary>
    private async ValueTask<int> ReadPartAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (!inPart || destination.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            var result = await pipe.ReadAsync(cancellationToken);
            var buffer = result.Buffer;

            // Only as far as this read can go (plus a delimiter's length), so a large buffer is not searched again per read.
            var window = buffer.Slice(0, Math.Min(buffer.Length, destination.Length + delimiter.Length - 1));
            var at = IndexOf(window, delimiter);
            if (at >= 0)
            {
                var count = (int)Math.Min(at, destination.Length);
                buffer.Slice(0, count).CopyTo(destination.Span);
                if (count == at)
                {
                    inPart = false;
                    pipe.AdvanceTo(buffer.GetPosition(at + delimiter.Length));
                }
                else
                {
                    pipe.AdvanceTo(buffer.GetPosition(count));
                }

                return count;
            }

            if (window.Length < buffer.Length)
            {
                buffer.Slice(0, destination.Length).CopyTo(destination.Span);
                pipe.AdvanceTo(buffer.GetPosition(destination.Length));
                return destination.Length;
            }

            if (result.IsCompleted)
            {
                pipe.AdvanceTo(buffer.End);
                throw new InvalidDataException("the body ended before the closing boundary");
            }

            // Everything but a tail that could be the start of the delimiter is the part's content.
            var safe = buffer.Length - (delimiter.Length - 1);
            if (safe > 0)
            {
                buffer.Slice(0, safe).CopyTo(destination.Span);
                pipe.AdvanceTo(buffer.GetPosition(safe), buffer.End);
                return (int)safe;
            }

            pipe.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool StartsWith(in ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> two)
    {
        Span<byte> first = stackalloc byte[2];
        buffer.Slice(0, 2).CopyTo(first);
        return first.SequenceEqual(two);
    }

    /// <summary>Where <paramref name="needle"/> starts in the sequence, also across segment edges; -1 when absent.</summary>
    internal static long IndexOf(in ReadOnlySequence<byte> sequence, ReadOnlySpan<byte> needle)
    {
        if (sequence.IsSingleSegment)
        {
            return sequence.FirstSpan.IndexOf(needle);
        }

        // The last needle.Length - 1 bytes seen so far, whatever segments they came from: a match can straddle several
        // short segments, so the seam is searched with the carried bytes, not just the previous segment's tail.
        var keep = needle.Length - 1;
        Span<byte> carry = stackalloc byte[keep];
        Span<byte> seam = stackalloc byte[2 * keep];
        var carried = 0;
        long offset = 0;
        foreach (var memory in sequence)
        {
            var span = memory.Span;
            if (span.IsEmpty)
            {
                continue;
            }

            if (carried > 0)
            {
                var head = span[..Math.Min(span.Length, keep)];
                carry[..carried].CopyTo(seam);
                head.CopyTo(seam[carried..]);
                var inSeam = seam[..(carried + head.Length)].IndexOf(needle);
                if (inSeam >= 0)
                {
                    return offset - carried + inSeam;
                }
            }

            var at = span.IndexOf(needle);
            if (at >= 0)
            {
                return offset + at;
            }

            offset += span.Length;
            if (span.Length >= keep)
            {
                span[^keep..].CopyTo(carry);
                carried = keep;
            }
            else
            {
                // Shift the carried bytes left and append this short segment.
                var total = Math.Min(keep, carried + span.Length);
                var fromCarry = total - span.Length;
                carry[(carried - fromCarry)..carried].CopyTo(seam);
                span.CopyTo(seam[fromCarry..]);
                seam[..total].CopyTo(carry);
                carried = total;
            }
        }

        return -1;
    }

    private sealed class PartStream(MultipartBodyReader reader) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            reader.ReadPartAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read the part asynchronously.");
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
