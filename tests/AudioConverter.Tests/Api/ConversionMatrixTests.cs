using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Api;

/// <summary>Every input format to every output format through the API, the worker and real ffmpeg.</summary>
public sealed class ConversionMatrixTests(SharedApp app) : IClassFixture<SharedApp>
{
    private static readonly string[] Formats = ["mp3", "wav", "ogg", "m4a", "aac", "flac", "opus", "wma"];

    private static readonly Dictionary<string, (string Container, string Codec)> Expected = new()
    {
        ["mp3"] = ("mp3", "mp3"),
        ["wav"] = ("wav", "pcm_s16le"),
        ["ogg"] = ("ogg", "vorbis"),
        ["m4a"] = ("mov,mp4,m4a,3gp,3g2,mj2", "aac"),
        ["aac"] = ("aac", "aac"),
        ["flac"] = ("flac", "flac"),
        ["opus"] = ("ogg", "opus"),
        ["wma"] = ("asf", "wmav2"),
    };

    public static TheoryData<string> Inputs() => new(Formats);

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task AnInputConvertsToEveryFormatWithTheRightCodecContainerAndDuration(string input)
    {
        const double seconds = 3;
        var client = await app.NewUserAsync();
        var source = AudioSamples.Get(input, seconds);
        var tasks = new List<(string Target, long Id)>();
        foreach (var target in Formats)
        {
            tasks.Add((target, (await client.UploadOkAsync(source, $"in.{input}", target)).Id));
        }

        foreach (var (target, id) in tasks)
        {
            var done = await client.WaitForTaskAsync(id, TimeSpan.FromSeconds(120));
            Assert.True(done.Status == "processed", $"{input} → {target}: {done.Status} {done.Error}");
            var output = await client.GetByteArrayAsync($"/api/tasks/{id}/converted");
            var probe = AudioSamples.Probe(output, target);
            Assert.Equal(Expected[target].Container, probe.Format);
            Assert.Equal(Expected[target].Codec, probe.Codec);
            Assert.InRange(probe.Duration, seconds * 0.95, seconds * 1.05);
            Assert.Equal(output.Length, done.OutputBytes);
            Assert.NotNull(done.DurationSeconds);
            Assert.InRange(done.DurationSeconds!.Value, seconds * 0.95, seconds * 1.05);
        }
    }

    [Fact]
    public async Task AFileWhoseExtensionLiesIsConvertedFromWhatItReallyIs()
    {
        var client = await app.NewUserAsync();
        var task = await client.UploadOkAsync(AudioSamples.Get("flac"), "actually-flac.mp3", "ogg");

        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("processed", done.Status);
        Assert.Equal("vorbis", AudioSamples.Probe(await client.GetByteArrayAsync(done.ConvertedUrl), "ogg").Codec);
    }
}
