using AudioConverter.Core.Storage;
using AudioConverter.Infrastructure.Storage;

namespace AudioConverter.Tests.Contracts;

public sealed class LocalDiskBlobStoreTests : BlobStoreContract
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "ac-tests", "blobs-" + Guid.NewGuid().ToString("N"));

    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult<IBlobStore>(new LocalDiskBlobStore(folder));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }
}
