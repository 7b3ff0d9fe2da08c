using AudioConverter.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure.Storage;

/// <summary>The blob-store adapters register themselves here; Storage:Provider picks one, and only its settings are read.</summary>
public static class StorageRegistration
{
    public static IServiceCollection AddBlobStore(this IServiceCollection services, IConfiguration configuration)
    {
        var storage = services.ReadSettings<StorageOptions>(configuration, StorageOptions.Section);
        return storage.IsS3 ? services.AddS3BlobStore(configuration) : services.AddLocalDiskBlobStore(storage);
    }

    public static IServiceCollection AddLocalDiskBlobStore(this IServiceCollection services, StorageOptions storage) =>
        services.AddSingleton<IBlobStore>(new LocalDiskBlobStore(storage.LocalPath));

    public static IServiceCollection AddS3BlobStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<S3Options, S3OptionsRules>(configuration, S3Options.Section);
        return services.AddSingleton<IBlobStore>(provider => new S3BlobStore(provider.GetRequiredService<IOptions<S3Options>>().Value));
    }
}
