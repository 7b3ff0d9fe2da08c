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
    public async Task AListingOfManyPagesReturnsEveryKeyUnderThePrefixOnce()
    {
        // Two keys a page over seven keys: four pages. s3rver answered the second page of the old v2 listing with a 500.
        var options = ExternalServices.S3(ExternalServices.UniqueName("paging"));
        using var store = new S3BlobStore(options, listPageSize: 2);
        await store.SetUpAsync(default);
        var keys = Enumerable.Range(0, 7).Select(i => $"originals/{i:D2}-{Guid.NewGuid():N}.mp3").ToList();
        foreach (var key in keys.Append("converted/other.wav"))
        {
            await store.PutAsync(key, new MemoryStream([1, 2, 3]), default);
        }

        var listed = new List<string>();
        await foreach (var blob in store.ListAsync("originals/", default))
        {
            Assert.True(blob.LastModifiedUtc > DateTime.UtcNow.AddHours(-1) && blob.LastModifiedUtc < DateTime.UtcNow.AddHours(1), $"{blob.Key} was written at {blob.LastModifiedUtc:O}");
            listed.Add(blob.Key);
        }

        Assert.Equal(keys.Order(StringComparer.Ordinal), listed);
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
