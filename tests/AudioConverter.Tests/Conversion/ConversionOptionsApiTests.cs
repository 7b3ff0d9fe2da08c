using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Conversion;

/// <summary>Options through the real HTTP pipeline and worker: upload fields, PUT JSON, the task's report, formats, waveform.</summary>
public sealed class ConversionOptionsApiTests(SharedApp app) : IClassFixture<SharedApp>
{
    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, byte[] content, string fileName, string newFormat, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(content), "fileName", fileName);
        form.Add(new StringContent(newFormat), "newFormat");
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return await client.PostAsync("/api/tasks", form);
    }

    private static async Task<string> ErrorAsync(HttpResponseMessage response, string option)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        return problem.GetProperty("errors").GetProperty(option)[0].GetString()!;
    }

    private static byte[] Wav(int rate, int channels, double seconds = 2)
    {
        var folder = Directory.CreateTempSubdirectory("ac-api-").FullName;
        var path = Path.Combine(folder, "in.wav");
        var layout = channels switch { 1 => "mono", 2 => "stereo", _ => "5.1" };
        AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", $"anoisesrc=color=pink:amplitude=0.3:sample_rate={rate}:duration={seconds}", "-af", $"aformat=channel_layouts={layout}", path]);
        var bytes = File.ReadAllBytes(path);
        Directory.Delete(folder, true);
        return bytes;
    }

    [Fact]
    public async Task FormatsAreDescribedWithoutAToken()
    {
        var formats = await app.Factory.CreateClient().GetFromJsonAsync<JsonElement>("/api/formats");
        var mp3 = formats.EnumerateArray().Single(f => f.GetProperty("name").GetString() == "mp3");
        var bitrate = mp3.GetProperty("options").GetProperty("bitrate");
        Assert.Equal("integer", bitrate.GetProperty("type").GetString());
        Assert.Equal(320, bitrate.GetProperty("max").GetDouble());
        Assert.Equal(2, mp3.GetProperty("options").GetProperty("quality").GetProperty("default").GetDouble());
        var flac = formats.EnumerateArray().Single(f => f.GetProperty("name").GetString() == "flac");
        Assert.True(flac.GetProperty("lossless").GetBoolean());
        Assert.False(flac.GetProperty("options").TryGetProperty("bitrate", out _));
        var opusRates = formats.EnumerateArray().Single(f => f.GetProperty("name").GetString() == "opus").GetProperty("options").GetProperty("sampleRate").GetProperty("values");
        Assert.Equal([8000, 12000, 16000, 24000, 48000], opusRates.EnumerateArray().Select(v => v.GetInt32()));
    }

    [Fact]
    public async Task BadOptionValuesAtUploadAre400sNamingOptionValueAndLimitWithNothingStored()
    {
        var client = await app.NewUserAsync();
        var mp3 = AudioSamples.Get("mp3");
        Assert.Equal("bitrate 500 is above mp3's maximum of 320 kbps.", await ErrorAsync(await UploadAsync(client, mp3, "a.mp3", "mp3", ("bitrate", "500")), "bitrate"));
        Assert.Contains("not a whole number", await ErrorAsync(await UploadAsync(client, mp3, "a.mp3", "mp3", ("bitrate", "fast")), "bitrate"), StringComparison.Ordinal);
        Assert.StartsWith("bitrate is empty", await ErrorAsync(await UploadAsync(client, mp3, "a.mp3", "mp3", ("bitrate", "")), "bitrate"), StringComparison.Ordinal);
        Assert.Equal("bitrate is given twice; give it once.", await ErrorAsync(await UploadAsync(client, mp3, "a.mp3", "mp3", ("bitrate", "64"), ("bitrate", "96")), "bitrate"));
        Assert.StartsWith("'bitrat' is not an option", await ErrorAsync(await UploadAsync(client, mp3, "a.mp3", "mp3", ("bitrat", "64")), "bitrat"), StringComparison.Ordinal);
        Assert.StartsWith("quality is not an option of wav", await ErrorAsync(await UploadAsync(client, mp3, "a.mp3", "wav", ("quality", "2")), "quality"), StringComparison.Ordinal);
        Assert.StartsWith("bitrate is not an option of flac", await ErrorAsync(await UploadAsync(client, mp3, "a.mp3", "flac", ("bitrate", "320")), "bitrate"), StringComparison.Ordinal);
        Assert.Equal("end 2 is not after start 3; end must be greater than start.", await ErrorAsync(await UploadAsync(client, mp3, "a.mp3", "mp3", ("start", "3"), ("end", "2")), "end"));
        Assert.Empty((await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json))!);
    }

    [Fact]
    public async Task AnUploadWithOptionsIsConvertedAsAskedAndTellsWhatItFoundAndMade()
    {
        var client = await app.NewUserAsync();
        var response = await UploadAsync(client, Wav(44100, 2, 4), "talk.wav", "mp3", ("bitrate", "64"), ("sampleRate", "22050"), ("channels", "1"), ("end", "3"), ("title", "Episode; 1=one"), ("analyze", "true"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!;
        Assert.Equal(64, created.Options!.Bitrate);
        Assert.Equal("Episode; 1=one", created.Options.Title);

        var done = await client.WaitForTaskAsync(created.Id);
        Assert.Equal("processed", done.Status);
        Assert.Equal(100, done.Progress);
        Assert.True(done.Encoded);
        Assert.Equal(("wav", "pcm_s16le", 44100, 2), (done.Input!.Container, done.Input.Codec, done.Input.SampleRate, done.Input.Channels));
        Assert.Equal(("mp3", 22050, 1), (done.Output!.Codec, done.Output.SampleRate, done.Output.Channels));
        Assert.InRange(done.Output.DurationSeconds, 2.95, 3.05);
        Assert.NotNull(done.Output.Loudness);

        var bytes = await client.GetByteArrayAsync($"/api/tasks/{done.Id}/converted");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), done.Output.Sha256);
        Assert.Equal(bytes.Length, done.Output.Bytes);

        var waveform = await client.GetFromJsonAsync<JsonElement>($"/api/tasks/{done.Id}/waveform?points=50");
        Assert.Equal(50, waveform.GetProperty("peaks").GetArrayLength());
        Assert.InRange(waveform.GetProperty("durationSeconds").GetDouble(), 2.95, 3.05);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/tasks/{done.Id}/waveform?points=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/tasks/{done.Id}/waveform?points=100000")).StatusCode);
        var stranger = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/tasks/{done.Id}/waveform")).StatusCode);
    }

    [Theory]
    [InlineData("mp3", true)] // an encoding: the converting ffmpeg takes the peaks itself
    [InlineData("wav", false)] // a stream copy decodes nothing: the peaks are a pass over the output
    public async Task TheWaveformShowsASilentFirstHalfAndALoudSecondHalf(string format, bool encoded)
    {
        var client = await app.NewUserAsync();
        var folder = Directory.CreateTempSubdirectory("ac-api-").FullName;
        var path = Path.Combine(folder, "half.wav");
        AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "aevalsrc=exprs='if(lt(t,2),0,0.5*sin(2*PI*440*t))':sample_rate=44100:duration=4", path]);
        var response = await UploadAsync(client, await File.ReadAllBytesAsync(path), "half.wav", format);
        Directory.Delete(folder, true);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var done = await client.WaitForTaskAsync((await response.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!.Id);
        Assert.Equal("processed", done.Status);
        Assert.Equal(encoded, done.Encoded);

        var waveform = await client.GetFromJsonAsync<JsonElement>($"/api/tasks/{done.Id}/waveform?points=100");
        var peaks = waveform.GetProperty("peaks").EnumerateArray().Select(p => p.GetDouble()).ToList();
        Assert.Equal(100, peaks.Count);
        Assert.All(peaks.Take(48), p => Assert.True(p < 0.01, $"a silent point drawn at {p}"));
        Assert.All(peaks.Skip(52), p => Assert.InRange(p, 0.45, 0.55));
    }

    [Fact]
    public async Task APutChangesSomeOptionsAndKeepsTheOthers()
    {
        var client = await app.NewUserAsync();
        var created = (await (await UploadAsync(client, Wav(44100, 2), "a.wav", "mp3", ("bitrate", "96"), ("channels", "1"), ("title", "First"))).Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!;
        await client.WaitForTaskAsync(created.Id);

        var put = await client.PutAsJsonAsync($"/api/tasks/{created.Id}", new { title = "Second", sampleRate = 16000 });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var done = await client.WaitForTaskAsync(created.Id);
        Assert.Equal("processed", done.Status);
        Assert.Equal((96, 1, 16000, "Second"), (done.Options!.Bitrate, done.Options.Channels, done.Options.SampleRate, done.Options.Title));
        Assert.Equal((16000, 1), (done.Output!.SampleRate, done.Output.Channels));

        // Another format: bitrate goes back to that format's default, the rest is kept and checked.
        var bad = await client.PutAsJsonAsync($"/api/tasks/{created.Id}", new { newFormat = "opus", sampleRate = 44100 });
        Assert.StartsWith("sampleRate 44100 is not a rate opus takes", await ErrorAsync(bad, "sampleRate"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync($"/api/tasks/{created.Id}", new { newFormat = "flac", sampleRate = (int?)null })).StatusCode);
        var flac = await client.WaitForTaskAsync(created.Id);
        Assert.Equal(("flac", (int?)null, "Second", 1), (flac.NewFormat, flac.Options!.Bitrate, flac.Options.Title, flac.Output!.Channels));

        Assert.StartsWith("bitrate is not an option of flac", await ErrorAsync(await client.PutAsJsonAsync($"/api/tasks/{created.Id}", new { bitrate = 128 }), "bitrate"), StringComparison.Ordinal);
        Assert.Contains("not a list or object", await ErrorAsync(await client.PutAsJsonAsync($"/api/tasks/{created.Id}", new { title = new[] { "a" } }), "title"), StringComparison.Ordinal);
        using var twice = new StringContent("""{"title":"a","title":"b"}""", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PutAsync($"/api/tasks/{created.Id}", twice)).StatusCode);
    }

    [Theory]
    [InlineData(96000, 2, "mp3", 48000, 2)]
    [InlineData(96000, 2, "wma", 48000, 2)]
    [InlineData(48000, 6, "mp3", 48000, 2)]
    [InlineData(44100, 6, "wma", 44100, 2)]
    public async Task AnInputBeyondTheEncodersLimitsIsFittedNotFailed(int rate, int channels, string format, int outRate, int outChannels)
    {
        var client = await app.NewUserAsync();
        var done = await client.WaitForTaskAsync((await client.UploadOkAsync(Wav(rate, channels), "hi.wav", format)).Id);
        Assert.Equal("processed", done.Status);
        Assert.Equal((outRate, outChannels), (done.Output!.SampleRate, done.Output.Channels));
        Assert.NotEmpty(done.Notes!);
    }

    [Fact]
    public async Task AHeaderlessTelephonyRecordingIsAcceptedByItsExtensionAndTextIsNot()
    {
        var client = await app.NewUserAsync();
        var folder = Directory.CreateTempSubdirectory("ac-api-").FullName;
        var path = Path.Combine(folder, "call.ulaw");
        AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=8000:duration=2", "-ac", "1", "-f", "mulaw", path]);
        var done = await client.WaitForTaskAsync((await client.UploadOkAsync(await File.ReadAllBytesAsync(path), "call.ulaw", "wav")).Id);
        Assert.Equal("processed", done.Status);
        Assert.Equal((8000, 1), (done.Output!.SampleRate, done.Output.Channels));
        Assert.InRange(done.Output.DurationSeconds, 1.9, 2.1);

        var text = await client.UploadAsync(Encoding.UTF8.GetBytes("this is a text file, not a recording at all"), "notes.pcm", "wav");
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
        Directory.Delete(folder, true);
    }

    [Fact]
    public async Task ACopiedStreamSaysItWasNotEncoded()
    {
        var client = await app.NewUserAsync();
        var done = await client.WaitForTaskAsync((await client.UploadOkAsync(AudioSamples.Get("m4a"), "song.m4a", "aac")).Id);
        Assert.Equal("processed", done.Status);
        Assert.False(done.Encoded);
        Assert.Equal("aac", done.Output!.Codec);
    }
}
