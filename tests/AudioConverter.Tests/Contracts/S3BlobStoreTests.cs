using AudioConverter.Core.Storage;
using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Storage;

namespace AudioConverter.Tests.Contracts;

/// <summary>The S3 adapter against s3rver, one bucket per test.</summary>
public sealed class S3BlobStoreTests : BlobStoreContract
{
    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        var store = new S3BlobStore(ExternalServices.S3(ExternalServices.UniqueName("ac")));
        await store.SetUpAsync(default);
        return store;
    }

    [Fact]
    public async Task MissingBucketWithoutCreateBucketNamesTheSetting()
    {
        var options = ExternalServices.S3(ExternalServices.UniqueName("missing"));
        options.CreateBucket = false;
        using var store = new S3BlobStore(options);
        var error = await Assert.ThrowsAsync<BackendUnreachableException>(() => store.SetUpAsync(default));
        Assert.Contains("Storage:S3:Bucket", error.Message, StringComparison.Ordinal);
        Assert.False(await store.IsReadyAsync(default));
    }

    [Fact]
    public async Task UnreachableEndpointIsNotReady()
    {
        var options = ExternalServices.S3("any");
        options.ServiceUrl = "http://127.0.0.1:9";
        using var store = new S3BlobStore(options);
        Assert.False(await store.IsReadyAsync(default));
    }
}
