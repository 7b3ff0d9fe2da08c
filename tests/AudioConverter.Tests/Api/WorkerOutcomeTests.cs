using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Api;

/// <summary>Inputs that pass the upload check but not the worker end failed with a sentence a person can act on.</summary>
public sealed class WorkerOutcomeTests : IDisposable
{
    private readonly AppFactory factory = new(new Dictionary<string, string?> { ["Media:MaxDurationSeconds"] = "5" });

    [Fact]
    public async Task AFileLongerThanTheLimitFailsSayingSo()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3", 8), "long.mp3", "wav");

        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("failed", done.Status);
        Assert.Equal("The audio is 0 min 8 s long; the limit is 0 min 5 s.", done.Error);
    }

    [Fact]
    public async Task AVideoWithoutSoundFailsSayingThereIsNoAudio()
    {
        var path = Path.Combine(factory.DataDirectory, "silent.mkv");
        AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=5", "-c:v", "mpeg4", path]);
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var task = await client.UploadOkAsync(await File.ReadAllBytesAsync(path), "clip.mkv", "mp3");

        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("failed", done.Status);
        Assert.Equal("The file has no audio stream to convert.", done.Error);
    }

    [Fact]
    public async Task TheRecordedDurationIsTheConvertedAudiosLength()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var task = await client.UploadOkAsync(AudioSamples.Get("flac", 4), "four.flac", "opus");

        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("processed", done.Status);
        Assert.InRange(done.DurationSeconds!.Value, 3.9, 4.1);
    }

    public void Dispose() => factory.Dispose();
}
