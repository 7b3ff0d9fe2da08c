using System.Net;
using System.Net.Http.Json;
using System.Text;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Api;

/// <summary>POST /api/tasks: what is accepted, and a clear 400 or 413 for everything that is not, with nothing stored.</summary>
public sealed class UploadTests(ApiOnlyApp app) : IClassFixture<ApiOnlyApp>
{
    [Theory]
    [InlineData("fileName")]
    [InlineData("file")]
    [InlineData("audio")]
    public async Task AnUploadIsAcceptedUnderEachFileFieldName(string field)
    {
        var client = await app.NewUserAsync();
        var response = await client.UploadAsync(AudioSamples.Get("mp3"), "song.mp3", "wav", field);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var task = (await response.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!;
        Assert.Equal($"/api/tasks/{task.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal("uploaded", task.Status);
        Assert.Equal("song.mp3", task.FileName);
        Assert.Equal("mp3", task.OriginalFormat);
        Assert.Equal("wav", task.NewFormat);
        Assert.Equal(AudioSamples.Get("mp3").Length, task.InputBytes);
        Assert.Null(task.ConvertedUrl);
        Assert.StartsWith("/api/files/", task.OriginalUrl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnTheInProcessQueueAnUploadCommitsItsRowAlreadyMarkedPublished()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");

        // Marked by the insert itself (the same time as its creation), not by a second commit after the send.
        using var scope = app.Factory.Services.CreateScope();
        var row = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Tasks.AsNoTracking().SingleAsync(t => t.Id == task.Id);
        Assert.NotNull(row.PublishedAt);
        Assert.Equal(row.CreatedAt, row.PublishedAt);
    }

    [Theory]
    [InlineData("WAV")]
    [InlineData(".flac")]
    [InlineData(" opus ")]
    public async Task TheFormatIsReadLeniently(string format)
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", format);
        Assert.Equal(format.Trim().TrimStart('.').ToLowerInvariant(), task.NewFormat);
    }

    [Fact]
    public async Task AFilenameTextPartSetsTheDisplayName()
    {
        var client = await app.NewUserAsync();
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(AudioSamples.Get("ogg")), "fileName", "upload.bin" },
            { new StringContent("flac"), "newFormat" },
            { new StringContent("My Song.ogg"), "filename" },
        };
        var response = await client.PostAsync("/api/tasks", form);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("My Song.ogg", (await response.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!.FileName);
    }

    [Fact]
    public async Task TheFormatPartMayComeBeforeTheFile()
    {
        var client = await app.NewUserAsync();
        using var form = new MultipartFormDataContent
        {
            { new StringContent("mp3"), "newFormat" },
            { new ByteArrayContent(AudioSamples.Get("wav")), "fileName", "a.wav" },
        };
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/tasks", form)).StatusCode);
    }

    [Fact]
    public async Task AMissingFilePartIsRefusedNamingTheField()
    {
        var client = await app.NewUserAsync();
        using var form = new MultipartFormDataContent { { new StringContent("wav"), "newFormat" } };
        var response = await client.PostAsync("/api/tasks", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty("fileName", out _));
    }

    [Fact]
    public async Task AMissingFormatIsRefusedListingTheFormats()
    {
        var client = await app.NewUserAsync();
        var response = await client.UploadAsync(AudioSamples.Get("mp3"), "song.mp3", newFormat: null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = (await response.ProblemAsync()).GetProperty("errors").GetProperty("newFormat")[0].GetString();
        Assert.Contains("flac", message, StringComparison.Ordinal);
        await AssertNoTasksAsync(client);
    }

    [Theory]
    [InlineData("xyz")]
    [InlineData("exe")]
    [InlineData("../../etc/passwd")]
    public async Task AnUnknownFormatIsRefused(string format)
    {
        var client = await app.NewUserAsync();
        var before = StoredOriginals();
        var response = await client.UploadAsync(AudioSamples.Get("mp3"), "song.mp3", format);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not a supported format", (await response.ProblemAsync()).GetProperty("errors").GetProperty("newFormat")[0].GetString(), StringComparison.Ordinal);
        await AssertNoTasksAsync(client);
        Assert.Equal(before, StoredOriginals());
    }

    public static TheoryData<string, byte[], string> NotAudio() => new()
    {
        { "empty", [], "empty" },
        { "random bytes", RandomBytes(4096), "not a recognised audio format" },
        { "a PNG image", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. RandomBytes(200)], "image" },
        { "a JPEG image", [0xFF, 0xD8, 0xFF, 0xE0, .. RandomBytes(200)], "image" },
        { "a text file", Encoding.UTF8.GetBytes("Dear diary, today I recorded a song. It was lovely.\n"), "text" },
        { "an HLS playlist", Encoding.UTF8.GetBytes("#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:9/secret.mp3\n"), "Playlists" },
        { "an ffconcat list", Encoding.UTF8.GetBytes("ffconcat version 1.0\nfile '/etc/passwd'\n"), "Playlists" },
    };

    [Theory]
    [MemberData(nameof(NotAudio))]
    public async Task AFileThatIsPlainlyNotAudioIsRefusedBeforeAnyTaskExists(string what, byte[] content, string expected)
    {
        var client = await app.NewUserAsync();
        var before = StoredOriginals();
        var response = await client.UploadAsync(content, "song.mp3", "wav");

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode}");
        var message = (await response.ProblemAsync()).GetProperty("errors").GetProperty("fileName")[0].GetString();
        Assert.Contains(expected, message, StringComparison.OrdinalIgnoreCase);
        await AssertNoTasksAsync(client);
        Assert.Equal(before, StoredOriginals());
    }

    [Fact]
    public async Task AFileOverTheSizeLimitIs413AndLeavesNothingBehind()
    {
        var client = await app.NewUserAsync();
        var big = new byte[1_500_000];
        AudioSamples.Get("wav").CopyTo(big, 0);
        var before = StoredOriginals();

        var response = await client.UploadAsync(big, "big.wav", "mp3");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("1,000,000 bytes", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNoTasksAsync(client);
        Assert.Equal(before, StoredOriginals());
    }

    [Fact]
    public async Task AFileOverTheSizeLimitWithoutContentLengthIs413WhileStreaming()
    {
        var client = await app.NewUserAsync();
        var big = new byte[1_500_000];
        AudioSamples.Get("wav").CopyTo(big, 0);
        using var form = new MultipartFormDataContent { { new StreamContent(new MemoryStream(big)), "fileName", "big.wav" }, { new StringContent("mp3"), "newFormat" } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tasks") { Content = new ChunkedContent(form).Init() };

        var before = StoredOriginals();
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertNoTasksAsync(client);
        Assert.Equal(before, StoredOriginals());
    }

    [Fact]
    public async Task AJsonBodyIsRefusedAskingForMultipart()
    {
        var client = await app.NewUserAsync();
        var response = await client.PostAsJsonAsync("/api/tasks", new { newFormat = "wav" });

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("multipart/form-data", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedMultipartBodyIsABadRequest()
    {
        var client = await app.NewUserAsync();
        var content = new StringContent("--xyz\r\nContent-Disposition: form-data; name=\"newFormat\"\r\n\r\nwav", Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");

        var response = await client.PostAsync("/api/tasks", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.ProblemAsync();
    }

    [Fact]
    public async Task TwoFilesInOneUploadAreRefused()
    {
        var client = await app.NewUserAsync();
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(AudioSamples.Get("mp3")), "fileName", "a.mp3" },
            { new ByteArrayContent(AudioSamples.Get("mp3")), "fileName", "b.mp3" },
            { new StringContent("wav"), "newFormat" },
        };
        var response = await client.PostAsync("/api/tasks", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertNoTasksAsync(client);
    }

    [Theory]
    [InlineData("../../etc/passwd.mp3", "passwd.mp3")]
    [InlineData("..\\..\\windows\\evil.mp3", "evil.mp3")]
    [InlineData("bad\u0001\u0007name\u200Fx.mp3", "badnamex.mp3")]
    [InlineData("..", "audio.mp3")]
    public async Task HostileDisplayNamesAreStoredSanitised(string name, string expected)
    {
        var client = await app.NewUserAsync();
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(AudioSamples.Get("mp3")), "fileName", "x.mp3" },
            { new StringContent("wav"), "newFormat" },
            { new StringContent(name), "filename" },
        };
        var response = await client.PostAsync("/api/tasks", form);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var task = (await response.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!;
        Assert.Equal(expected, task.FileName);
        var download = await client.GetAsync($"/api/tasks/{task.Id}/original");
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(AudioSamples.Get("mp3"), await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AThreeHundredCharacterNameIsShortenedKeepingItsExtension()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), new string('n', 300) + ".mp3", "wav");

        Assert.True(task.FileName.Length <= 200, task.FileName.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.EndsWith(".mp3", task.FileName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUploadWithoutATokenIs401()
    {
        var response = await app.Factory.CreateClient().UploadAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await response.ProblemAsync();
    }

    private static async Task AssertNoTasksAsync(HttpClient client)
    {
        var tasks = await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json);
        Assert.Empty(tasks!);
    }

    /// <summary>Files under the store's originals folder; tests of one class run one at a time, so a count before and after is exact.</summary>
    private int StoredOriginals()
    {
        var folder = Path.Combine(app.Factory.DataDirectory, "blobs", "originals");
        return Directory.Exists(folder) ? Directory.EnumerateFiles(folder).Count() : 0;
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        bytes[0] = 0x13; // never a signature by chance
        return bytes;
    }

    /// <summary>Sends the content without a Content-Length, as a streaming client would.</summary>
    private sealed class ChunkedContent(HttpContent inner) : HttpContent
    {
        protected override void SerializeToStream(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken) =>
            inner.CopyTo(stream, context, cancellationToken);

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => inner.CopyToAsync(stream, context);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            inner.Dispose();
            base.Dispose(disposing);
        }

        public ChunkedContent Init()
        {
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            return this;
        }
    }
}
