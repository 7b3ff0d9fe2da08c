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
        Assert.Equal((Attempts: 1, Retries: 0), await AttemptsAsync(factory, task.Id));
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
            ["Worker:RetryForSeconds"] = "1.5",
        });
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");

        var done = await client.WaitForTaskAsync(task.Id, TimeSpan.FromSeconds(60));

        Assert.Equal("failed", done.Status);
        Assert.Contains("could not be started", done.Error, StringComparison.Ordinal);
        Assert.Contains("Gave up after 3 tries over 1.5 s", done.Error, StringComparison.Ordinal);

        // The system's failures give their attempt back: the crash budget is untouched, the retry budget is spent.
        Assert.Equal((Attempts: 1, Retries: 2), await AttemptsAsync(factory, task.Id));

        // Two waits of 0.5 s and 1 s lie between the three attempts.
        Assert.True(done.ProcessedAt - done.CreatedAt >= TimeSpan.FromSeconds(1.5), $"failed after {done.ProcessedAt - done.CreatedAt}");
    }

    [Fact]
    public async Task ConverterKilledByTheSystemMoreOftenThanTheAttemptLimitIsRetriedAndSucceeds()
    {
        var folder = Path.Combine(Path.GetTempPath(), "ac-faults", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var marker = Path.Combine(folder, "killed-3");
        var script = Path.Combine(folder, "ffmpeg-killed-three-times.sh");

        // The first three runs die of SIGKILL, as under the out-of-memory killer; later runs are the real ffmpeg. With
        // Worker:MaxAttempts 2 the old rule (every failure an attempt) failed the task for good at the second kill.
        await File.WriteAllTextAsync(script, $"#!/bin/sh\nfor n in 1 2 3; do if [ ! -e '{folder}/killed-'$n ]; then touch '{folder}/killed-'$n; kill -9 $$; fi; done\nexec ffmpeg \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        using var factory = new AppFactory(new Dictionary<string, string?> { ["Media:FfmpegPath"] = script, ["Worker:RetryBaseDelaySeconds"] = "0.1", ["Worker:MaxAttempts"] = "2" });
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);
        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");

        var done = await client.WaitForTaskAsync(task.Id, TimeSpan.FromSeconds(60));

        Assert.True(File.Exists(marker));
        Assert.Equal("processed", done.Status);
        Assert.Equal((Attempts: 1, Retries: 3), await AttemptsAsync(factory, task.Id));
        Assert.Equal("wav", AudioSamples.Probe(await client.GetByteArrayAsync($"/api/tasks/{task.Id}/converted"), "wav").Format);
    }

    private static async Task<(int Attempts, int Retries)> AttemptsAsync(AppFactory factory, long id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var row = await db.Tasks.AsNoTracking().Where(t => t.Id == id).Select(t => new { t.Attempts, t.Retries }).SingleAsync();
        return (row.Attempts, row.Retries);
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
