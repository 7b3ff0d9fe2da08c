using AudioConverter.Server.Worker;
using AudioConverter.Infrastructure.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AudioConverter.Tests.Lifecycle;

/// <summary>Two installations on one host never share a work folder, and a cleaner deletes only what it provably owns.</summary>
public sealed class WorkFolderTests : IAsyncLifetime
{
    private LifecycleHarness harness = null!;

    public async Task InitializeAsync() => harness = await LifecycleHarness.StartAsync("Sqlite");

    public async Task DisposeAsync() => await harness.DisposeAsync();

    [Fact]
    public void TwoInstallationsWithTheDefaultTempFolderGetDifferentWorkFoldersAndOneInstallationKeepsItsOwn()
    {
        static string FolderOf(string data) => new WorkerOptions
        {
            InstanceId = WorkerInstance.Id(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Database:Provider"] = "Sqlite",
                ["Database:ConnectionString"] = $"Data Source={data}/app.db",
                ["Storage:LocalPath"] = $"{data}/blobs",
            }).Build()),
        }.EffectiveTempPath;

        var staging = FolderOf("/srv/staging/data");
        var production = FolderOf("/srv/production/data");

        Assert.NotEqual(staging, production);
        Assert.Equal(staging, FolderOf("/srv/staging/data"));
        Assert.StartsWith(Path.Combine(Path.GetTempPath(), "audioconverter"), staging, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCleanerRemovesOnlyDeadConversionsOfItsOwnInstallation()
    {
        var options = harness.Services.GetRequiredService<IOptions<WorkerOptions>>().Value;
        var own = options.EffectiveTempPath;
        var user = await harness.AddUserAsync("cleaner");
        var live = await harness.UploadAsync(user, [1]);
        var liveOwner = Guid.NewGuid().ToString("N");
        await harness.WithDbAsync((_, t) => t.ClaimAsync(live.Id, liveOwner, options.ClaimRules, default));

        var dead = MakeFolder(own, $"7-v1-{Guid.NewGuid():N}");
        var running = MakeFolder(own, $"{live.Id}-v1-{liveOwner}");
        var unknown = MakeFolder(own, "something-an-operator-put-here");

        // Another installation's live conversion, in the same parent folder: not this cleaner's to judge.
        var neighbour = MakeFolder(Path.Combine(Path.GetDirectoryName(own)!, "0123456789abcdef"), $"{live.Id}-v1-{Guid.NewGuid():N}");

        await harness.Services.GetRequiredService<LeftoverCleaner>().CleanTempFolderAsync(default);

        Assert.False(Directory.Exists(dead));
        Assert.True(Directory.Exists(running));
        Assert.True(Directory.Exists(unknown));
        Assert.True(Directory.Exists(neighbour));
    }

    private static string MakeFolder(string parent, string name)
    {
        var path = Path.Combine(parent, name);
        Directory.CreateDirectory(path);
        File.WriteAllBytes(Path.Combine(path, "input.mp3"), [1, 2, 3]);
        return path;
    }
}
