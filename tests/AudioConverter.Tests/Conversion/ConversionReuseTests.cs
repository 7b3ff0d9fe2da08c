using System.Net;
using System.Net.Http.Json;
using AudioConverter.Server.Tasks;
using AudioConverter.Server.Worker;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Conversion;

/// <summary>
/// Work not done twice, through HTTP and the real worker: ffmpeg is started through a wrapper script that counts its
/// runs, so a reused output is proved by the count not moving, and a new conversion by the count going up.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ConversionReuseTests : IDisposable
{
    private readonly string counter;
    private readonly AppFactory factory;

    public ConversionReuseTests()
    {
        var folder = Directory.CreateTempSubdirectory("ac-reuse-").FullName;
        counter = Path.Combine(folder, "ffmpeg-runs");
        var wrapper = Path.Combine(folder, "ffmpeg");
        File.WriteAllText(wrapper, $"#!/bin/sh\necho run >> '{counter}'\nexec ffmpeg \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        factory = new AppFactory(new Dictionary<string, string?> { ["Media:FfmpegPath"] = wrapper });
    }

    private int FfmpegRuns => File.Exists(counter) ? File.ReadAllLines(counter).Length : 0;

    private static async Task<TaskResponse> ConvertAsync(HttpClient client, byte[] content, string fileName, string newFormat, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(content), "fileName", fileName);
        form.Add(new StringContent(newFormat), "newFormat");
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        var response = await client.PostAsync("/api/tasks", form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var task = (await response.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!;
        var done = await client.WaitForTaskAsync(task.Id);
        Assert.Equal("processed", done.Status);
        return done;
    }

    private static bool IsReused(TaskResponse task) => task.Notes!.Any(n => n.StartsWith(ConversionReuse.NotePrefix, StringComparison.Ordinal));

    [Fact]
    public async Task ASecondIdenticalUploadIsProcessedWithoutRunningFfmpeg()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var wav = AudioSamples.Get("wav", 2);
        var first = await ConvertAsync(client, wav, "first.wav", "mp3", ("bitrate", "128"));
        var runs = FfmpegRuns;
        Assert.True(runs > 0, "the first upload ran no ffmpeg");
        Assert.False(IsReused(first));

        var second = await ConvertAsync(client, wav, "second name.wav", "mp3", ("bitrate", "128"));

        Assert.Equal(runs, FfmpegRuns);
        Assert.True(IsReused(second), $"notes: {string.Join(" | ", second.Notes!)}");
        Assert.Contains(second.Notes!, n => n.Contains($"task {first.Id}", StringComparison.Ordinal));
        Assert.Equal(first.OutputBytes, second.OutputBytes);
        Assert.Equal(first.Output!.Sha256, second.Output!.Sha256);
        Assert.NotEqual(first.ConvertedUrl, second.ConvertedUrl);
        var firstBytes = await client.GetByteArrayAsync(first.ConvertedUrl);
        Assert.Equal(firstBytes, await client.GetByteArrayAsync(second.ConvertedUrl));

        // Each task owns its own file: deleting the first leaves the second's output, and a third reuses the second.
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/tasks/{first.Id}")).StatusCode);
        Assert.Equal(firstBytes, await client.GetByteArrayAsync(second.ConvertedUrl));
        var third = await ConvertAsync(client, wav, "third.wav", "mp3", ("bitrate", "128"));
        Assert.Equal(runs, FfmpegRuns);
        Assert.Contains(third.Notes!, n => n.Contains($"task {second.Id}", StringComparison.Ordinal));
        Assert.Single(third.Notes!, n => n.StartsWith(ConversionReuse.NotePrefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADifferentOptionTargetOrUserConvertsAnew()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var wav = AudioSamples.Get("wav", 2);
        await ConvertAsync(client, wav, "a.wav", "mp3", ("bitrate", "128"));

        var runs = FfmpegRuns;
        var otherOption = await ConvertAsync(client, wav, "a.wav", "mp3", ("bitrate", "192"));
        Assert.False(IsReused(otherOption));
        Assert.True(FfmpegRuns > runs, "a different bitrate was not converted");

        runs = FfmpegRuns;
        var otherTarget = await ConvertAsync(client, wav, "a.wav", "flac");
        Assert.False(IsReused(otherTarget));
        Assert.True(FfmpegRuns > runs, "a different target was not converted");

        runs = FfmpegRuns;
        var someoneElse = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var theirs = await ConvertAsync(someoneElse, wav, "a.wav", "mp3", ("bitrate", "128"));
        Assert.False(IsReused(theirs));
        Assert.True(FfmpegRuns > runs, "another user's identical upload was not converted");

        runs = FfmpegRuns;
        var otherBytes = await ConvertAsync(client, AudioSamples.Get("wav", 3), "a.wav", "mp3", ("bitrate", "128"));
        Assert.False(IsReused(otherBytes));
        Assert.True(FfmpegRuns > runs, "a different file was not converted");
    }

    [Fact]
    public async Task ADeletedSourceTaskIsNotReused()
    {
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var wav = AudioSamples.Get("wav", 2);
        var first = await ConvertAsync(client, wav, "a.wav", "opus");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/tasks/{first.Id}")).StatusCode);
        var runs = FfmpegRuns;

        var again = await ConvertAsync(client, wav, "a.wav", "opus");

        Assert.False(IsReused(again));
        Assert.True(FfmpegRuns > runs, "the upload after the deletion was not converted");
    }

    public void Dispose()
    {
        factory.Dispose();
        File.Delete(counter);
    }
}
