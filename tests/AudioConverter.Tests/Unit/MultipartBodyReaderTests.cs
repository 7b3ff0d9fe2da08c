using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using AudioConverter.Server.Tasks;

namespace AudioConverter.Tests.Unit;

/// <summary>The upload's multipart reader: boundaries found across any split of the body, content returned byte for byte.</summary>
public sealed class MultipartBodyReaderTests
{
    private const string Boundary = "b0und4ry";

    [Fact]
    public void TheDelimiterIsFoundAcrossEverySegmentEdge()
    {
        var bytes = Encoding.ASCII.GetBytes("xxxxxxxxxx\r\n--b0und4ryyyy");
        var needle = Encoding.ASCII.GetBytes("\r\n--" + Boundary);
        for (var first = 1; first < bytes.Length - 1; first++)
        {
            for (var second = first + 1; second < bytes.Length; second++)
            {
                var sequence = Segments(bytes[..first], bytes[first..second], bytes[second..]);
                Assert.Equal(10, MultipartBodyReader.IndexOf(sequence, needle));
            }
        }

        Assert.Equal(-1, MultipartBodyReader.IndexOf(Segments(bytes[..11], bytes[12..]), needle));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task PartsAreReadWhateverTheReadSize(int readSize)
    {
        // The file holds near-misses of the delimiter, which are content.
        var file = new byte[50_000];
        new Random(12).NextBytes(file);
        var nearMiss = Encoding.ASCII.GetBytes("\r\n--b0und4r");
        nearMiss.CopyTo(file, 100);
        nearMiss.CopyTo(file, file.Length - nearMiss.Length);
        var body = new MemoryStream();
        body.Write(Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"newFormat\"\r\n\r\nflac\r\n"));
        body.Write(Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"fileName\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n"));
        body.Write(file);
        body.Write(Encoding.ASCII.GetBytes($"\r\n--{Boundary}\r\nContent-Disposition: form-data; name=\"skipped\"\r\n\r\nnot read\r\n--{Boundary}--\r\n"));
        body.Position = 0;
        var reader = new MultipartBodyReader(PipeReader.Create(body, new StreamPipeReaderOptions(bufferSize: readSize, minimumReadSize: 1)), Boundary);

        var (found, disposition) = await reader.NextAsync(CancellationToken.None);
        Assert.True(found);
        Assert.Equal("newFormat", disposition!.Name.Value!.Trim('"'));
        Assert.Equal("flac", await new StreamReader(reader.Body).ReadToEndAsync());

        (found, disposition) = await reader.NextAsync(CancellationToken.None);
        Assert.True(found);
        Assert.Equal("a.wav", disposition!.FileName.Value!.Trim('"'));
        var copy = new MemoryStream();
        await reader.Body.CopyToAsync(copy, 1000);
        Assert.Equal(file, copy.ToArray());

        (found, _) = await reader.NextAsync(CancellationToken.None);
        Assert.True(found);
        (found, _) = await reader.NextAsync(CancellationToken.None);
        Assert.False(found);
    }

    [Theory]
    [InlineData("--b0und4ry\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno closing boundary", "the body ended before the closing boundary")]
    [InlineData("--b0und4ry\r\nContent-Disposition: form-data; name=\"a\"", "the body ended inside a part's headers")]
    [InlineData("--b0und4ry\r\nno colon here\r\n\r\nx\r\n--b0und4ry--", "a part's header line has no name")]
    [InlineData("--b0und4ryXX", "a boundary is followed by neither a line break nor '--'")]
    [InlineData("something else entirely", "the body does not start with its boundary")]
    public async Task MalformedBodiesAreRefusedWithAReason(string text, string reason)
    {
        var reader = new MultipartBodyReader(PipeReader.Create(new MemoryStream(Encoding.ASCII.GetBytes(text))), Boundary);
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            while ((await reader.NextAsync(CancellationToken.None)).Found)
            {
                await reader.Body.CopyToAsync(Stream.Null);
            }
        });
        Assert.Equal(reason, error.Message);
    }

    private static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        var first = new Segment(parts[0], 0);
        var last = first;
        foreach (var part in parts.Skip(1))
        {
            last = last.Append(part);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
