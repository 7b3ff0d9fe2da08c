using System.Net;
using System.Net.Http.Json;
using System.Text;
using AudioConverter.Core.Media;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AudioConverter.Tests.Security;

public sealed class HostileFileTests
{
    public static TheoryData<string> PlaylistKinds => ["hls", "ffconcat"];

    [Theory]
    [MemberData(nameof(PlaylistKinds))]
    public async Task APlaylistNamedMp3IsRefusedAtUploadWithoutAnyConnection(string kind)
    {
        using var trap = new ConnectionTrap();
        var secret = HostileFiles.SecretFile(out _);
        using var factory = new AppFactory();
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);

        var response = await client.UploadAsync(HostileFiles.Playlist(kind, trap.Port, secret), "song.mp3", "wav");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Playlists", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(trap.Requests);
    }

    [Theory]
    [MemberData(nameof(PlaylistKinds))]
    public async Task APlaylistBehindAnId3HeaderPassesTheUploadCheckButTheWorkerOpensNothing(string kind)
    {
        using var trap = new ConnectionTrap();
        var secret = HostileFiles.SecretFile(out var marker);
        using var factory = new AppFactory();
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);

        var task = await client.UploadOkAsync(HostileFiles.Id3Prefixed(HostileFiles.Playlist(kind, trap.Port, secret)), "song.mp3", "wav");
        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("failed", done.Status);
        Assert.Contains("only a single audio file is accepted", done.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(factory.DataDirectory, done.Error, StringComparison.Ordinal);
        Assert.Null(done.ConvertedUrl);
        Assert.Empty(trap.Requests);
        foreach (var file in Directory.GetFiles(factory.DataDirectory, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(marker, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
            Assert.DoesNotContain("root:x:0:0", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("hls", false)]
    [InlineData("hls", true)]
    [InlineData("ffconcat", false)]
    [InlineData("ffconcat", true)]
    public async Task TheConverterItselfRefusesPlaylistsWithOrWithoutAnId3Header(string kind, bool id3Prefix)
    {
        using var trap = new ConnectionTrap();
        var secret = HostileFiles.SecretFile(out var marker);
        var folder = Directory.CreateTempSubdirectory("ac-hostile-").FullName;
        var input = Path.Combine(folder, "input.mp3");
        var playlist = HostileFiles.Playlist(kind, trap.Port, secret);
        await File.WriteAllBytesAsync(input, id3Prefix ? HostileFiles.Id3Prefixed(playlist) : playlist);
        var converter = new FfmpegMediaConverter(Options.Create(new MediaOptions()), NullLogger<FfmpegMediaConverter>.Instance);

        // The conversion detects the format itself: the format whitelist must keep it from the playlist demuxers.
        var output = Path.Combine(folder, "output.wav");
        var convertFailure = await Assert.ThrowsAsync<MediaException>(() => converter.ConvertAsync(input, output, AudioFormat.Find("wav")!, CancellationToken.None));
        Assert.True(convertFailure.IsInputFault);
        Assert.Contains("only a single audio file", convertFailure.Message, StringComparison.Ordinal);

        Assert.Empty(trap.Requests);
        Assert.DoesNotContain(marker, File.Exists(output) ? await File.ReadAllTextAsync(output) : "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTrapSeesFfmpegWhenNoWhitelistStopsIt()
    {
        // The control for the tests above: the same playlist with the network allowed does connect, so an empty trap means something.
        using var trap = new ConnectionTrap();
        var secret = HostileFiles.SecretFile(out _);
        var folder = Directory.CreateTempSubdirectory("ac-hostile-").FullName;
        var input = Path.Combine(folder, "input.mp3");
        await File.WriteAllBytesAsync(input, HostileFiles.Id3Prefixed(HostileFiles.HlsPlaylist(trap.Port, secret)));

        try
        {
            AudioSamples.Run("ffmpeg", ["-v", "error", "-nostdin", "-y", "-protocol_whitelist", "file,http,tcp", "-rw_timeout", "3000000", "-i", input, "-f", "wav", Path.Combine(folder, "out.wav")]);
        }
        catch (InvalidOperationException)
        {
            // The trap answers nothing, so ffmpeg fails; what matters is that it tried.
        }

        await Faults.Deadline.UntilAsync(() => trap.Requests.Count > 0, TimeSpan.FromSeconds(10), "ffmpeg to connect to the trap");
        Assert.Contains(trap.Requests, r => r.StartsWith("GET /secret.ts", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFewKilobytesThatDecodeToHoursOfSilenceAreRefusedWithAClearMessage()
    {
        var bomb = HostileFiles.SilenceFlac(4 * 3600);
        Assert.True(bomb.Length < 64 * 1024, $"the bomb is {bomb.Length} bytes");
        using var factory = new AppFactory();
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);

        var task = await client.UploadOkAsync(bomb, "quiet.flac", "wav");
        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("failed", done.Status);
        Assert.Equal("The audio is 4 h 0 min long; the limit is 3 h 0 min.", done.Error);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(factory.DataDirectory, "blobs"), "*", SearchOption.AllDirectories), f => f.Contains("converted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AWavHeaderClaimingGigabytesConvertsOnlyWhatIsReallyThere()
    {
        using var factory = new AppFactory();
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);

        var task = await client.UploadOkAsync(HostileFiles.WavClaimingGigabytes(), "liar.wav", "mp3");
        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("processed", done.Status);
        Assert.True(done.OutputBytes < 100_000, $"output of {done.OutputBytes} bytes");
        var probe = AudioSamples.Probe(await client.GetByteArrayAsync($"/api/tasks/{task.Id}/converted"), "mp3");
        Assert.InRange(probe.Duration, 0.5, 1.5);
    }

    [Fact]
    public async Task AnMp3WithAFiveMegabyteTagIsConverted()
    {
        using var factory = new AppFactory();
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);

        var task = await client.UploadOkAsync(HostileFiles.Mp3WithHugeComment(5 * 1024 * 1024), "tagged.mp3", "ogg");
        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("processed", done.Status);
        var probe = AudioSamples.Probe(await client.GetByteArrayAsync($"/api/tasks/{task.Id}/converted"), "ogg");
        Assert.Equal("vorbis", probe.Codec);
        Assert.InRange(probe.Duration, 2.5, 3.5);
    }

    [Fact]
    public async Task AFlacNamedMp3IsConvertedFromWhatItReallyIs()
    {
        using var factory = new AppFactory();
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);

        var task = await client.UploadOkAsync(AudioSamples.Get("flac"), "not-really.mp3", "wav");
        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("processed", done.Status);
        var probe = AudioSamples.Probe(await client.GetByteArrayAsync($"/api/tasks/{task.Id}/converted"), "wav");
        Assert.Equal("pcm_s16le", probe.Codec);
        Assert.InRange(probe.Duration, 2.9, 3.1);
    }

    public static TheoryData<string, string> HostileNames => new()
    {
        { "../../../etc/passwd.mp3", "passwd.mp3" },
        { "..\\..\\windows\\win.ini.mp3", "win.ini.mp3" },
        { "a\0b.mp3", "ab.mp3" },
        { "bell\u0007\r\nX-Injected: yes.mp3", "bellX-Injected: yes.mp3" },
        { "\u202Eevil\u202Dgnp.mp3", "evilgnp.mp3" },
        { "\u200F\u061Cmix\u2066ed\u2069.mp3", "mixed.mp3" },
        { new string('x', 300) + ".mp3", new string('x', 196) + ".mp3" },
    };

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task AHostileFileNameIsStoredUnderAServerKeyShownSanitisedAndDownloadedSafely(string name, string expected)
    {
        using var factory = new AppFactory(new Dictionary<string, string?> { ["Role"] = "api", ["Queue:InProcessWithoutWorker"] = "true" });
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);

        var response = await client.PostAsync("/api/tasks", RawMultipart(AudioSamples.Get("mp3"), name));

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var task = (await response.Content.ReadFromJsonAsync<AudioConverter.Server.Tasks.TaskResponse>(ApiClient.Json))!;
        Assert.Equal(expected, task.FileName);
        Assert.Matches("^/api/files/[0-9a-f]{32}\\.mp3$", task.OriginalUrl);
        Assert.All(Directory.GetFiles(factory.DataDirectory, "*", SearchOption.AllDirectories),
            f => Assert.True(f.StartsWith(Path.Combine(factory.DataDirectory, "blobs", "originals") + "/", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith("app.db", StringComparison.Ordinal) || Path.GetFileName(f) == "jwt.key", f));

        var download = await client.GetAsync($"/api/tasks/{task.Id}/original");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var disposition = string.Join(",", download.Content.Headers.GetValues("Content-Disposition"));
        Assert.StartsWith("attachment;", disposition, StringComparison.Ordinal);
        Assert.DoesNotContain(disposition, c => c < 0x20 || c == 0x7F || c > 0x7E);
        var parsed = download.Content.Headers.ContentDisposition!;
        Assert.Equal(expected, parsed.FileNameStar ?? parsed.FileName?.Trim('"'));
        Assert.Equal(AudioSamples.Get("mp3"), await download.Content.ReadAsByteArrayAsync());
    }

    /// <summary>A multipart body with the file name as RFC 5987 <c>filename*</c>, so control characters travel percent-encoded.</summary>
    private static ByteArrayContent RawMultipart(byte[] file, string fileName)
    {
        const string boundary = "hostile-name-boundary";
        var encoded = Uri.EscapeDataString(fileName);
        var head = Encoding.ASCII.GetBytes(
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"newFormat\"\r\n\r\nwav\r\n" +
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"fileName\"; filename=\"upload.mp3\"; filename*=UTF-8''{encoded}\r\nContent-Type: audio/mpeg\r\n\r\n");
        var tail = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
        var content = new ByteArrayContent([.. head, .. file, .. tail]);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return content;
    }
}
