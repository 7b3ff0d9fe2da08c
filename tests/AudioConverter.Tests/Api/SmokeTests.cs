using System.Net;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Api;

public sealed class SmokeTests
{
    [Fact]
    public async Task UploadedMp3IsConvertedToWav()
    {
        using var factory = new AppFactory();
        var anonymous = factory.CreateClient();
        var client = await anonymous.NewUserAsync(factory.CreateClient);

        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");
        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("processed", done.Status);
        var converted = await client.GetAsync($"/api/tasks/{task.Id}/converted");
        Assert.Equal(HttpStatusCode.OK, converted.StatusCode);
        var probe = AudioSamples.Probe(await converted.Content.ReadAsByteArrayAsync(), "wav");
        Assert.Equal("wav", probe.Format);
        Assert.Equal("pcm_s16le", probe.Codec);
    }
}
