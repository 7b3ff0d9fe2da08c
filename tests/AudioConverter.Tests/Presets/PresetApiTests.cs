using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Presets;

/// <summary>/api/presets and preset=NAME through the real pipeline and worker, with the outputs measured.</summary>
public sealed class PresetApiTests(SharedApp app) : IClassFixture<SharedApp>
{
    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, byte[] content, string fileName, string? newFormat, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(content), "fileName", fileName);
        if (newFormat is not null)
        {
            form.Add(new StringContent(newFormat), "newFormat");
        }

        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return await client.PostAsync("/api/tasks", form);
    }

    private static async Task<string> ErrorAsync(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return (await response.ProblemAsync()).GetProperty("errors").GetProperty(field)[0].GetString()!;
    }

    private static byte[] Wav(int rate, int channels, double seconds = 2)
    {
        var folder = Directory.CreateTempSubdirectory("ac-presets-").FullName;
        var path = Path.Combine(folder, "in.wav");
        AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", $"anoisesrc=color=pink:amplitude=0.3:sample_rate={rate}:duration={seconds}", "-ac", channels.ToString(System.Globalization.CultureInfo.InvariantCulture), path]);
        var bytes = File.ReadAllBytes(path);
        Directory.Delete(folder, true);
        return bytes;
    }

    [Fact]
    public async Task TheListHasTheBuiltInPresetsAndOnlyTheCallersOwn()
    {
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        var created = await alice.PostAsJsonAsync("/api/presets", new { name = "my speech", newFormat = "opus", bitrate = 32, channels = 1 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("my speech", false, "opus", 32), (body.GetProperty("name").GetString(), body.GetProperty("builtIn").GetBoolean(), body.GetProperty("newFormat").GetString(), body.GetProperty("bitrate").GetInt32()));

        var aliceList = await alice.GetFromJsonAsync<JsonElement>("/api/presets");
        Assert.Contains(aliceList.EnumerateArray(), p => p.GetProperty("name").GetString() == "my speech");
        var podcast = aliceList.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "podcast speech");
        Assert.True(podcast.GetProperty("builtIn").GetBoolean());
        Assert.Equal(64, podcast.GetProperty("bitrate").GetInt32());
        var bobList = await bob.GetFromJsonAsync<JsonElement>("/api/presets");
        Assert.DoesNotContain(bobList.EnumerateArray(), p => p.GetProperty("name").GetString() == "my speech");
        Assert.Equal(5, bobList.GetArrayLength());

        // Taken names, another user's preset, built-in ones.
        Assert.Equal(HttpStatusCode.Conflict, (await alice.PostAsJsonAsync("/api/presets", new { name = "my speech", newFormat = "mp3" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await alice.PostAsJsonAsync("/api/presets", new { name = "telephony", newFormat = "mp3" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await bob.PostAsJsonAsync("/api/presets", new { name = "my speech", newFormat = "mp3" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.DeleteAsync("/api/presets/nobody")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await alice.DeleteAsync("/api/presets/telephony")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await alice.PutAsJsonAsync("/api/presets/telephony", new { newFormat = "mp3" })).StatusCode);

        var put = await alice.PutAsJsonAsync("/api/presets/my%20speech", new { newFormat = "mp3", bitrate = 96 });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var replaced = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("mp3", 96), (replaced.GetProperty("newFormat").GetString(), replaced.GetProperty("bitrate").GetInt32()));
        var bobs = (await bob.GetFromJsonAsync<JsonElement>("/api/presets")).EnumerateArray().Single(p => p.GetProperty("name").GetString() == "my speech");
        Assert.False(bobs.TryGetProperty("bitrate", out _));

        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync("/api/presets/my%20speech")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.DeleteAsync("/api/presets/my%20speech")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Factory.CreateClient().GetAsync("/api/presets")).StatusCode);
    }

    [Fact]
    public async Task BadPresetsAre400sNamingTheField()
    {
        var client = await app.NewUserAsync();
        Assert.Equal("The preset name is 65 characters long; the most is 64.", await ErrorAsync(await client.PostAsJsonAsync("/api/presets", new { name = new string('a', 65), newFormat = "mp3" }), "name"));
        Assert.StartsWith("A preset name may use only", await ErrorAsync(await client.PostAsJsonAsync("/api/presets", new { name = "Bad;Name", newFormat = "mp3" }), "name"), StringComparison.Ordinal);
        Assert.StartsWith("Give the preset a name", await ErrorAsync(await client.PostAsJsonAsync("/api/presets", new { newFormat = "mp3" }), "name"), StringComparison.Ordinal);
        Assert.StartsWith("bitrate is not an option of flac", await ErrorAsync(await client.PostAsJsonAsync("/api/presets", new { name = "x", newFormat = "flac", bitrate = 320 }), "bitrate"), StringComparison.Ordinal);
        Assert.StartsWith("quality is not an option of wav", await ErrorAsync(await client.PostAsJsonAsync("/api/presets", new { name = "x", newFormat = "wav", quality = 2 }), "quality"), StringComparison.Ordinal);
        Assert.Equal("bitrate 500 is above mp3's maximum of 320 kbps.", await ErrorAsync(await client.PostAsJsonAsync("/api/presets", new { name = "x", newFormat = "mp3", bitrate = 500 }), "bitrate"));
        await ErrorAsync(await client.PostAsJsonAsync("/api/presets", new { name = "x", newFormat = "exe" }), "newFormat");
        Assert.Equal(5, (await client.GetFromJsonAsync<JsonElement>("/api/presets")).GetArrayLength());
    }

    [Fact]
    public async Task AnUploadWithAPresetIsConvertedByItAndExplicitOptionsWin()
    {
        var client = await app.NewUserAsync();

        // The built-in voice memo: opus, 24 kbps, mono, 16 kHz; newFormat comes from the preset.
        var memo = await UploadAsync(client, Wav(44100, 2), "memo.wav", null, ("preset", "voice memo"));
        Assert.Equal(HttpStatusCode.Created, memo.StatusCode);
        var memoDone = await client.WaitForTaskAsync((await memo.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!.Id);
        Assert.Equal(("processed", "opus"), (memoDone.Status, memoDone.NewFormat));
        // Ogg Opus always decodes at 48 kHz (ffprobe reports 48000); the encoder was given 16 kHz, as the options say.
        Assert.Equal(("opus", 1, 16000, 24), (memoDone.Output!.Codec, memoDone.Output.Channels, memoDone.Options!.SampleRate, memoDone.Options.Bitrate));

        // Telephony with an explicit sample rate over the preset's: 16 kHz, still mono.
        var tel = await UploadAsync(client, Wav(44100, 2), "call.wav", null, ("preset", "telephony"), ("sampleRate", "16000"));
        var telDone = await client.WaitForTaskAsync((await tel.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!.Id);
        Assert.Equal(("wav", 16000, 1), (telDone.NewFormat, telDone.Output!.SampleRate, telDone.Output.Channels));

        // One's own preset, then a PUT to another preset.
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/presets", new { name = "small mp3", newFormat = "mp3", bitrate = 48, channels = 1, sampleRate = 22050 })).StatusCode);
        var own = await UploadAsync(client, Wav(44100, 2), "own.wav", "mp3", ("preset", "small mp3"));
        var ownDone = await client.WaitForTaskAsync((await own.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!.Id);
        Assert.Equal((48, 22050, 1), (ownDone.Options!.Bitrate, ownDone.Output!.SampleRate, ownDone.Output.Channels));

        var put = await client.PutAsJsonAsync($"/api/tasks/{ownDone.Id}", new { preset = "telephony" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var putDone = await client.WaitForTaskAsync(ownDone.Id);
        Assert.Equal(("wav", 8000, 1), (putDone.NewFormat, putDone.Output!.SampleRate, putDone.Output.Channels));
    }

    [Fact]
    public async Task UnknownForeignAndMalformedPresetsAreRefusedWithNothingStored()
    {
        var alice = await app.NewUserAsync();
        var bob = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.Created, (await bob.PostAsJsonAsync("/api/presets", new { name = "bobs", newFormat = "mp3" })).StatusCode);
        var mp3 = AudioSamples.Get("mp3");
        Assert.StartsWith("There is no preset 'nope'", await ErrorAsync(await UploadAsync(alice, mp3, "a.mp3", null, ("preset", "nope")), "preset"), StringComparison.Ordinal);
        Assert.StartsWith("There is no preset 'bobs'", await ErrorAsync(await UploadAsync(alice, mp3, "a.mp3", "mp3", ("preset", "bobs")), "preset"), StringComparison.Ordinal);
        Assert.StartsWith("A preset name may use only", await ErrorAsync(await UploadAsync(alice, mp3, "a.mp3", "mp3", ("preset", "../etc;x")), "preset"), StringComparison.Ordinal);
        Assert.StartsWith("The preset name is 65", await ErrorAsync(await UploadAsync(alice, mp3, "a.mp3", "mp3", ("preset", new string('a', 65))), "preset"), StringComparison.Ordinal);
        // An option the preset's target does not have: quality on the telephony WAV.
        Assert.StartsWith("quality is not an option of wav", await ErrorAsync(await UploadAsync(alice, mp3, "a.mp3", null, ("preset", "telephony"), ("quality", "2")), "quality"), StringComparison.Ordinal);
        Assert.Empty((await alice.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json))!);

        var task = await alice.UploadOkAsync(mp3, "a.mp3", "mp3");
        await alice.WaitForTaskAsync(task.Id);
        Assert.StartsWith("There is no preset 'bobs'", await ErrorAsync(await alice.PutAsJsonAsync($"/api/tasks/{task.Id}", new { preset = "bobs" }), "preset"), StringComparison.Ordinal);
        Assert.StartsWith("bitrate is not an option of wav", await ErrorAsync(await alice.PutAsJsonAsync($"/api/tasks/{task.Id}", new { preset = "telephony", bitrate = 64 }), "bitrate"), StringComparison.Ordinal);
    }
}
