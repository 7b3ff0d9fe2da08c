using AudioConverter.Infrastructure.Media;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AudioConverter.Tests.Conversion;

/// <summary>
/// Conversions yield the CPU to requests when the API and the worker share a process: ffmpeg and ffprobe run under
/// Linux's idle scheduling policy. The test fixtures turn it off (the test runner's own threads are not requests, and
/// would starve every conversion of the suite), so these tests turn it back on and read the policy the tools ran under.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ConversionPriorityTests
{
    [Theory]
    [InlineData("both", true)]
    [InlineData("api", false)]
    public void TheIdlePolicyIsOnByDefaultOnlyWhenTheApiAndTheWorkerShareTheProcess(string role, bool idle)
    {
        using var factory = new AppFactory(new Dictionary<string, string?> { ["Role"] = role, ["Queue:InProcessWithoutWorker"] = "true", ["Media:IdlePriority"] = null });

        var media = factory.Services.GetRequiredService<IOptions<MediaOptions>>().Value;

        Assert.Equal(idle, media.IdlePriority == true);
    }

    [Fact]
    public async Task WithTheIdlePolicyOnFfmpegAndFfprobeRunUnderSchedIdle()
    {
        var folder = Directory.CreateTempSubdirectory("ac-priority-").FullName;
        try
        {
            var policies = Path.Combine(folder, "policies");
            string Wrapper(string tool)
            {
                // chrt -p of the wrapper's own pid: the policy the tool is exec'd with.
                var path = Path.Combine(folder, tool);
                File.WriteAllText(path, $"#!/bin/sh\necho \"{tool} $(chrt -p $$ | head -1)\" >> '{policies}'\nexec {tool} \"$@\"\n");
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                return path;
            }

            using var factory = new AppFactory(new Dictionary<string, string?>
            {
                ["Media:IdlePriority"] = "true",
                ["Media:FfmpegPath"] = Wrapper("ffmpeg"),
                ["Media:FfprobePath"] = Wrapper("ffprobe"),
            });
            var client = await factory.CreateClient().NewUserAsync(factory.CreateClient);

            var task = await client.UploadOkAsync(AudioSamples.Get("mp3", 1), "song.mp3", "ogg");

            Assert.Equal("processed", (await client.WaitForTaskAsync(task.Id)).Status);
            var lines = await File.ReadAllLinesAsync(policies);
            Assert.Contains(lines, l => l.StartsWith("ffmpeg ", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("ffprobe ", StringComparison.Ordinal));
            Assert.All(lines, l => Assert.EndsWith("SCHED_IDLE", l.Trim(), StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
