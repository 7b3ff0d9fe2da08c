using AudioConverter.Core.Storage;
using AudioConverter.Infrastructure.Storage;

namespace AudioConverter.Tests.Contracts;

public sealed class LocalDiskBlobStoreTests : BlobStoreContract
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "ac-tests", "blobs-" + Guid.NewGuid().ToString("N"));

    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult<IBlobStore>(new LocalDiskBlobStore(folder));

    [Fact]
    public async Task ACopyIsAsNewAsTheMomentItWasMade()
    {
        // The orphan scan removes unreferenced blobs by age: a copy that kept its source's time would look old at once.
        await Store.PutAsync("converted/1-v1-f1.mp3", new MemoryStream([1, 2, 3]), default);
        var old = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Path.Combine(folder, "converted", "1-v1-f1.mp3"), old);

        await Store.CopyAsync("converted/1-v1-f1.mp3", "converted/2-v1-f1.mp3", default);

        var copy = new FileInfo(Path.Combine(folder, "converted", "2-v1-f1.mp3"));
        Assert.True(copy.LastWriteTimeUtc > old.AddYears(20), $"the copy's last write time is {copy.LastWriteTimeUtc:O}");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }
}
