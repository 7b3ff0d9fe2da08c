using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Tasks;
using AudioConverter.Server.Worker;
using AudioConverter.Tests.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Lifecycle;

/// <summary>Retention and the orphan scan, on local disk and on S3 (s3rver), with time on the fake clock.</summary>
public sealed class StorageJanitorTests
{
    [Fact]
    public async Task AfterTheRetentionPeriodATaskExpiresItsRowStaysAndItsFilesAndStoredBytesAreGone()
    {
        await using var harness = await LifecycleHarness.StartAsync("Sqlite", new Dictionary<string, string?>
        {
            ["Worker:OriginalRetentionDays"] = "30",
            ["Worker:OutputRetentionDays"] = "7",
        });
        var user = await harness.AddUserAsync("keeper");
        var old = await ProcessedAsync(harness, user, "old");
        harness.Clock.Advance(TimeSpan.FromDays(6));
        var young = await ProcessedAsync(harness, user, "young");
        var janitor = ActivatorUtilities.CreateInstance<StorageJanitor>(harness.Services);
        var blobs = harness.Services.GetRequiredService<IBlobStore>();
        var storedBefore = await harness.WithDbAsync((db, _) => UploadQuota.StoredBytesAsync(db, user, default));

        Assert.Equal(0, await janitor.ExpireAsync(default));
        harness.Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await janitor.ExpireAsync(default));

        var expired = await harness.RowAsync(old.Id);
        Assert.Equal(ConversionStatus.Expired, expired.Status);
        Assert.Null(await blobs.OpenReadAsync(expired.InputKey, default));
        Assert.Null(await blobs.OpenReadAsync(expired.OutputKey!, default));
        Assert.Equal(ConversionStatus.Processed, (await harness.RowAsync(young.Id)).Status);
        Assert.NotNull(await blobs.OpenReadAsync(young.InputKey, default));
        var storedAfter = await harness.WithDbAsync((db, _) => UploadQuota.StoredBytesAsync(db, user, default));
        Assert.Equal(storedBefore - expired.InputBytes - expired.OutputBytes!.Value, storedAfter);
    }

    [Fact]
    public async Task ZeroKeepsFilesForever()
    {
        await using var harness = await LifecycleHarness.StartAsync("Sqlite", new Dictionary<string, string?>
        {
            ["Worker:OriginalRetentionDays"] = "0",
            ["Worker:OutputRetentionDays"] = "0",
        });
        var user = await harness.AddUserAsync("forever");
        var task = await ProcessedAsync(harness, user, "kept");
        harness.Clock.Advance(TimeSpan.FromDays(3650));

        Assert.Equal(0, await ActivatorUtilities.CreateInstance<StorageJanitor>(harness.Services).ExpireAsync(default));
        Assert.Equal(ConversionStatus.Processed, (await harness.RowAsync(task.Id)).Status);
    }

    [Fact]
    public async Task OrphanedBlobsAreRemovedFromLocalDiskAndReferencedOnesKept()
    {
        await using var harness = await LifecycleHarness.StartAsync("Sqlite");
        await OrphanScanAsync(harness, blobs =>
        {
            // The local store's age is the file's write time: make every file look written two hours before the fake now.
            foreach (var file in Directory.GetFiles(harness.BlobFolder, "*", SearchOption.AllDirectories))
            {
                File.SetLastWriteTimeUtc(file, harness.Clock.GetUtcNow().UtcDateTime.AddHours(-2));
            }

            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task OrphanedBlobsAreRemovedFromS3AndReferencedOnesKept()
    {
        var bucket = ExternalServices.UniqueName("janitor");
        var s3 = ExternalServices.S3(bucket);
        await using var harness = await LifecycleHarness.StartAsync("Sqlite", new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "S3",
            ["Storage:S3:ServiceUrl"] = s3.ServiceUrl,
            ["Storage:S3:Bucket"] = bucket,
            ["Storage:S3:AccessKey"] = s3.AccessKey,
            ["Storage:S3:SecretKey"] = s3.SecretKey,
            ["Storage:S3:CreateBucket"] = "true",
            ["Storage:S3:Region"] = s3.Region,
            ["Storage:S3:ForcePathStyle"] = "true",
        });
        await ((IBackendSetup)harness.Services.GetRequiredService<IBlobStore>()).SetUpAsync(default);

        // S3 keeps its own write times: move the fake clock past them instead.
        await OrphanScanAsync(harness, _ =>
        {
            harness.Clock.SetUtcNow(new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero));
            return Task.CompletedTask;
        });
    }

    private static async Task OrphanScanAsync(LifecycleHarness harness, Func<IBlobStore, Task> age)
    {
        var user = await harness.AddUserAsync("orphans");
        var blobs = harness.Services.GetRequiredService<IBlobStore>();
        var kept = await ProcessedAsync(harness, user, "kept");
        var expired = await ProcessedAsync(harness, user, "expired");
        Assert.True(await harness.WithDbAsync((_, t) => t.ExpireAsync(expired, default)));
        var orphans = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var key = $"converted/orphan-{i}.ogg";
            await blobs.PutAsync(key, new MemoryStream([1, 2, 3]), default);
            orphans.Add(key);
        }

        await age(blobs);
        var removed = await ActivatorUtilities.CreateInstance<StorageJanitor>(harness.Services).RemoveOrphansAsync(default);

        Assert.Equal(5, removed);
        foreach (var key in orphans.Append(expired.InputKey).Append(expired.OutputKey!))
        {
            Assert.Null(await blobs.OpenReadAsync(key, default));
        }

        await using var input = await blobs.OpenReadAsync(kept.InputKey, default);
        await using var output = await blobs.OpenReadAsync(kept.OutputKey!, default);
        Assert.NotNull(input);
        Assert.NotNull(output);
    }

    /// <summary>A task taken through upload, claim and finish, with both files in the store.</summary>
    private static async Task<ConversionTask> ProcessedAsync(LifecycleHarness harness, long user, string name)
    {
        var task = await harness.UploadAsync(user, [.. System.Text.Encoding.UTF8.GetBytes(name)]);
        var claim = (await harness.WithDbAsync((_, t) => t.ClaimAsync(task.Id, Guid.NewGuid().ToString("N"), new ClaimRules(30, 3, 0), default))).Task!;
        var key = claim.OutputKeyFor(AudioFormat.Find("ogg")!);
        var bytes = await harness.Services.GetRequiredService<IBlobStore>().PutAsync(key, new MemoryStream(new byte[100]), default);
        Assert.True(await harness.WithDbAsync((_, t) => t.FinishAsync(task.Id, claim.Fence, key, bytes, 1, null, default)));
        return await harness.RowAsync(task.Id);
    }
}
