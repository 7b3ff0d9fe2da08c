using AudioConverter.Core.Media;
using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure;

/// <summary>Picks one adapter per port from each section's Provider setting.</summary>
public static class InfrastructureServiceCollectionExtensions
{
    public static IServiceCollection AddAudioConverterInfrastructure(this IServiceCollection services, IConfiguration configuration)
    {
        var database = Bind<DatabaseOptions>(services, configuration, DatabaseOptions.Section);
        var storage = Bind<StorageOptions>(services, configuration, StorageOptions.Section);
        var queue = Bind<QueueOptions>(services, configuration, QueueOptions.Section);
        Bind<MediaOptions>(services, configuration, MediaOptions.Section);

        switch (database.Provider.ToLowerInvariant())
        {
            case "sqlite":
                var sqlite = SqliteConnectionStrings.Prepare(database.ConnectionString);
                services.AddDbContext<AppDbContext, SqliteAppDbContext>(o => o.UseSqlite(sqlite));
                break;
            default:
                throw new OptionsValidationException(DatabaseOptions.Section, typeof(DatabaseOptions),
                    [$"Database:Provider '{database.Provider}' is not supported; use Sqlite or Postgres."]);
        }

        switch (storage.Provider.ToLowerInvariant())
        {
            case "localdisk":
                services.AddSingleton<IBlobStore>(new LocalDiskBlobStore(storage.LocalPath));
                break;
            default:
                throw new OptionsValidationException(StorageOptions.Section, typeof(StorageOptions),
                    [$"Storage:Provider '{storage.Provider}' is not supported; use LocalDisk or S3."]);
        }

        switch (queue.Provider.ToLowerInvariant())
        {
            case "inprocess":
                services.AddSingleton<ITaskQueue, InProcessTaskQueue>();
                break;
            default:
                throw new OptionsValidationException(QueueOptions.Section, typeof(QueueOptions),
                    [$"Queue:Provider '{queue.Provider}' is not supported; use InProcess, RabbitMq or PubSub."]);
        }

        services.AddSingleton<IMediaConverter, FfmpegMediaConverter>();
        return services;
    }

    private static T Bind<T>(IServiceCollection services, IConfiguration configuration, string section)
        where T : class, new()
    {
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();
        return configuration.GetSection(section).Get<T>() ?? new T();
    }
}
