using System.Net;
using System.Net.Http.Json;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Security;

public sealed class QuotaTests
{
    [Fact]
    public async Task AUserWithTooManyUnfinishedTasksGets429UntilOneIsGone()
    {
        // API role only: nothing converts, so the tasks stay unfinished.
        using var factory = new AppFactory(new Dictionary<string, string?> { ["Role"] = "api", ["Queue:InProcessWithoutWorker"] = "true", ["Uploads:MaxActiveTasksPerUser"] = "2" });
        var anonymous = factory.CreateClient();
        var user = await anonymous.NewUserAsync(factory.CreateClient);
        var other = await anonymous.NewUserAsync(factory.CreateClient);
        var sample = AudioSamples.Get("mp3");
        var first = await user.UploadOkAsync(sample, "1.mp3", "wav");
        await user.UploadOkAsync(sample, "2.mp3", "wav");

        var refused = await user.UploadAsync(sample, "3.mp3", "wav");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        var problem = await refused.ProblemAsync();
        Assert.Contains("the limit is 2", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(factory.DataDirectory, "blobs", "originals")).Length);

        await other.UploadOkAsync(sample, "theirs.mp3", "wav");
        Assert.Equal(HttpStatusCode.NoContent, (await user.DeleteAsync($"/api/tasks/{first.Id}")).StatusCode);
        await user.UploadOkAsync(sample, "3.mp3", "wav");
    }

    [Fact]
    public async Task AUserOverTheHourlyUploadBytesGets429WithTheWaitAndNothingIsKept()
    {
        var sample = AudioSamples.Get("mp3");
        using var factory = new AppFactory(new Dictionary<string, string?> { ["Role"] = "api", ["Queue:InProcessWithoutWorker"] = "true", ["Uploads:MaxBytesPerUserPerHour"] = (sample.Length * 5 / 2).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var anonymous = factory.CreateClient();
        var user = await anonymous.NewUserAsync(factory.CreateClient);
        await user.UploadOkAsync(sample, "1.mp3", "wav");
        await user.UploadOkAsync(sample, "2.mp3", "wav");

        var refused = await user.UploadAsync(sample, "3.mp3", "wav");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 3500, 3600);
        var problem = await refused.ProblemAsync();
        Assert.Contains("bytes per hour", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(factory.DataDirectory, "blobs", "originals")).Length);
        Assert.Equal(2, (await user.GetFromJsonAsync<List<object>>("/api/tasks"))!.Count);

        var other = await anonymous.NewUserAsync(factory.CreateClient);
        await other.UploadOkAsync(sample, "theirs.mp3", "wav");
    }
}
