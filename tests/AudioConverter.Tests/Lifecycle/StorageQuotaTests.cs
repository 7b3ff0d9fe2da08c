using System.Globalization;
using System.Net;
using AudioConverter.Tests.Fixtures;
using AudioConverter.Tests.Security;

namespace AudioConverter.Tests.Lifecycle;

/// <summary>The stored-bytes quota through the real pipeline: originals and outputs count, and a refused upload keeps nothing.</summary>
public sealed class StorageQuotaTests
{
    [Fact]
    public async Task AUserWhoseFilesFillTheStorageQuotaIsRefusedNamingTheSettingAndNothingIsKept()
    {
        var sample = AudioSamples.Get("mp3", 1);
        using var factory = new AppFactory(new Dictionary<string, string?>
        {
            ["Uploads:MaxStoredBytesPerUser"] = (sample.Length * 5 / 2).ToString(CultureInfo.InvariantCulture),
        });
        var anonymous = factory.CreateClient();
        var user = await anonymous.NewUserAsync(factory.CreateClient);

        // One original and its WAV output already exceed two and a half originals: the output counts.
        var first = await user.UploadOkAsync(sample, "1.mp3", "wav");
        var done = await user.WaitForTaskAsync(first.Id, TimeSpan.FromSeconds(60));
        Assert.Equal("processed", done.Status);
        Assert.True(done.OutputBytes > sample.Length * 2, $"the WAV output is {done.OutputBytes} bytes");

        var refused = await user.UploadAsync(sample, "2.mp3", "mp3");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var detail = (await refused.ProblemAsync()).GetProperty("detail").GetString();
        Assert.Contains("Uploads:MaxStoredBytesPerUser", detail, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.Combine(factory.DataDirectory, "blobs", "originals")));

        // Deleting frees the space; another user was never affected.
        Assert.Equal(HttpStatusCode.NoContent, (await user.DeleteAsync($"/api/tasks/{first.Id}")).StatusCode);
        await user.UploadOkAsync(sample, "3.mp3", "mp3");
        var other = await anonymous.NewUserAsync(factory.CreateClient);
        await other.UploadOkAsync(sample, "theirs.mp3", "mp3");
    }
}
