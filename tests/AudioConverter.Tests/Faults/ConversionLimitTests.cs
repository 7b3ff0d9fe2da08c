using System.Globalization;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Faults;

[Collection(ProcessCollection.Name)]
public sealed class ConversionLimitTests
{
    [Fact]
    public async Task ConversionOverTheTimeLimitIsKilledWithItsProcessAndFailsWithoutRetry()
    {
        using var factory = new AppFactory(new Dictionary<string, string?> { ["Media:ConversionTimeoutSeconds"] = "1", ["Worker:RetryBaseDelaySeconds"] = "0.1" });
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var task = await client.UploadOkAsync(LongAudio.Flac(600), "long.flac", "mp3");

        var done = await client.WaitForTaskAsync(task.Id, TimeSpan.FromSeconds(60));

        Assert.Equal("failed", done.Status);
        Assert.Contains("longer than the limit of 1 seconds", done.Error, StringComparison.Ordinal);
        Assert.Equal(1, await AttemptsAsync(factory, task.Id));
        Assert.Empty(ToolProcessesMentioning(factory.DataDirectory));
        Assert.Empty(Deadline.FilesLeftIn(Path.Combine(factory.DataDirectory, "tmp")));
    }

    [Fact]
    public async Task MissingConverterIsRetriedWithBackoffThenFailsWithAMessage()
    {
        using var factory = new AppFactory(new Dictionary<string, string?>
        {
            ["Media:FfmpegPath"] = "/nonexistent/bin/ffmpeg",
            ["Worker:MaxAttempts"] = "3",
            ["Worker:RetryBaseDelaySeconds"] = "0.5",
        });
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");

        var done = await client.WaitForTaskAsync(task.Id, TimeSpan.FromSeconds(60));

        Assert.Equal("failed", done.Status);
        Assert.Contains("could not be started", done.Error, StringComparison.Ordinal);
        Assert.Contains("Gave up after 3 attempts", done.Error, StringComparison.Ordinal);
        Assert.Equal(3, await AttemptsAsync(factory, task.Id));

        // Two waits of 0.5 s and 1 s lie between the three attempts.
        Assert.True(done.ProcessedAt - done.CreatedAt >= TimeSpan.FromSeconds(1.5), $"failed after {done.ProcessedAt - done.CreatedAt}");
    }

    [Fact]
    public async Task ConverterKilledByTheSystemOnceIsRetriedAndSucceeds()
    {
        var folder = Path.Combine(Path.GetTempPath(), "ac-faults", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var marker = Path.Combine(folder, "killed-once");
        var script = Path.Combine(folder, "ffmpeg-killed-once.sh");

        // The first run dies of SIGKILL, as under the out-of-memory killer; later runs are the real ffmpeg.
        await File.WriteAllTextAsync(script, $"#!/bin/sh\nif [ ! -e '{marker}' ]; then touch '{marker}'; kill -9 $$; fi\nexec ffmpeg \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        using var factory = new AppFactory(new Dictionary<string, string?> { ["Media:FfmpegPath"] = script, ["Worker:RetryBaseDelaySeconds"] = "0.1" });
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");

        var done = await client.WaitForTaskAsync(task.Id, TimeSpan.FromSeconds(60));

        Assert.True(File.Exists(marker));
        Assert.Equal("processed", done.Status);
        Assert.Equal(2, await AttemptsAsync(factory, task.Id));
        Assert.Equal("wav", AudioSamples.Probe(await client.GetByteArrayAsync($"/api/tasks/{task.Id}/converted"), "wav").Format);
    }

    private static async Task<int> AttemptsAsync(AppFactory factory, long id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Tasks.AsNoTracking().Where(t => t.Id == id).Select(t => t.Attempts).SingleAsync();
    }

    private static List<int> ToolProcessesMentioning(string text)
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ').Contains(text, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // Ended while we looked.
            }
        }

        return found;
    }
}
