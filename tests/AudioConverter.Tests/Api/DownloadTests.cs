using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Api;

/// <summary>Downloads through the real worker: attachments with the right type and name, ETag and Range.</summary>
public sealed class DownloadTests(SharedApp app) : IClassFixture<SharedApp>
{
    [Fact]
    public async Task TheOriginalDownloadsByteForByteUnderEveryRoute()
    {
        var client = await app.NewUserAsync();
        var bytes = AudioSamples.Get("ogg");
        var task = await client.UploadOkAsync(bytes, "Tune.ogg", "mp3");

        foreach (var path in new[] { $"/api/tasks/{task.Id}/original", $"/api/download/{task.Id}", task.OriginalUrl })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal("Tune.ogg", response.Content.Headers.ContentDisposition?.FileNameStar);
            Assert.Equal("audio/ogg", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task TheConvertedFileKeepsTheStemWithTheNewExtension()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "My Song.mp3", "flac");
        var done = await client.WaitForTaskAsync(task.Id);
        Assert.Equal("processed", done.Status);
        Assert.NotNull(done.ConvertedUrl);

        foreach (var path in new[] { $"/api/tasks/{task.Id}/converted", done.ConvertedUrl! })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("My Song.flac", response.Content.Headers.ContentDisposition?.FileNameStar);
            Assert.Equal("audio/flac", response.Content.Headers.ContentType?.MediaType);
            var content = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(done.OutputBytes, content.Length);
            Assert.Equal("flac", AudioSamples.Probe(content, "flac").Codec);
        }
    }

    [Fact]
    public async Task ARangeRequestGetsPartialContent()
    {
        var client = await app.NewUserAsync();
        var bytes = AudioSamples.Get("wav");
        var task = await client.UploadOkAsync(bytes, "a.wav", "mp3");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/tasks/{task.Id}/original");
        request.Headers.Range = new RangeHeaderValue(100, 199);

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(bytes[100..200], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(bytes.Length, response.Content.Headers.ContentRange?.Length);
    }

    [Fact]
    public async Task AnUnsatisfiableRangeIs416()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "a.mp3", "wav");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/tasks/{task.Id}/original");
        request.Headers.Range = new RangeHeaderValue(10_000_000, 10_000_100);

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
    }

    [Fact]
    public async Task TheETagAnswersNotModified()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "a.mp3", "wav");
        var first = await client.GetAsync($"/api/tasks/{task.Id}/original");
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/tasks/{task.Id}/original");
        request.Headers.IfNoneMatch.Add(etag);

        var second = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task TheConvertedFileIsAConflictUntilProcessedThenGoneAfterReconversion()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "a.mp3", "wav");
        var early = await client.GetAsync($"/api/tasks/{task.Id}/converted");
        if (early.StatusCode != HttpStatusCode.OK)
        {
            // The worker may already have finished such a short file; when it has not, the answer is 409.
            Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
            Assert.Equal("/problems/conflict", (await early.ProblemAsync()).GetProperty("type").GetString());
        }

        var done = await client.WaitForTaskAsync(task.Id);
        var firstOutput = done.ConvertedUrl!;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(firstOutput)).StatusCode);

        (await client.PutAsJsonAsync($"/api/tasks/{task.Id}", new { newFormat = "ogg" })).EnsureSuccessStatusCode();
        var again = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("processed", again.Status);
        Assert.NotEqual(firstOutput, again.ConvertedUrl);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(firstOutput)).StatusCode);
        var converted = await client.GetByteArrayAsync(again.ConvertedUrl);
        Assert.Equal("vorbis", AudioSamples.Probe(converted, "ogg").Codec);
    }

    [Fact]
    public async Task AnUnknownStoredNameIs404()
    {
        var client = await app.NewUserAsync();
        foreach (var name in new[] { "nope.mp3", "..%2F..%2Fetc%2Fpasswd", "1-v1.wav" })
        {
            var response = await client.GetAsync($"/api/files/{name}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("/problems/not-found", (await response.ProblemAsync()).GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task ATruncatedFileEndsProcessedOrFailedNeverStuck()
    {
        var client = await app.NewUserAsync();
        var whole = AudioSamples.Get("mp3");
        var truncated = await client.UploadOkAsync(whole[..(whole.Length / 2)], "half.mp3", "wav");
        var corrupted = whole.ToArray();
        new Random(7).NextBytes(corrupted.AsSpan(2000, 20000));
        var damaged = await client.UploadOkAsync(corrupted, "damaged.mp3", "flac");

        var a = await client.WaitForTaskAsync(truncated.Id);
        var b = await client.WaitForTaskAsync(damaged.Id);

        Assert.Contains(a.Status, new[] { "processed", "failed" });
        Assert.Contains(b.Status, new[] { "processed", "failed" });
        if (a.Status == "processed")
        {
            var probe = AudioSamples.Probe(await client.GetByteArrayAsync(a.ConvertedUrl), "wav");
            Assert.InRange(probe.Duration, 1.0, 2.0);
        }
    }

    [Fact]
    public async Task AFileWithAnAudioSignatureThatDoesNotDecodeFailsWithAClearMessage()
    {
        var client = await app.NewUserAsync();
        var bytes = new byte[8192];
        new Random(3).NextBytes(bytes);
        "OggS"u8.CopyTo(bytes);

        var task = await client.UploadOkAsync(bytes, "fake.ogg", "mp3");
        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("failed", done.Status);
        Assert.StartsWith("The file is not audio that can be decoded", done.Error, StringComparison.Ordinal);
        Assert.Null(done.ConvertedUrl);
    }
}
