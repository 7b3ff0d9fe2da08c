using AudioConverter.Core.Media;
using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Notifications;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

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
                services.AddDbContextPool<AppDbContext, SqliteAppDbContext>(o => o.UseSqlite(sqlite).AddInterceptors(SqliteBusyTimeout.Instance));
                break;
            case "postgres" or "postgresql":
                var postgres = PostgresConnectionString(database.ConnectionString);
                services.AddDbContextPool<AppDbContext, PostgresAppDbContext>(o => o.UseNpgsql(postgres));
                break;
            default:
                throw Invalid<DatabaseOptions>(DatabaseOptions.Section, $"Database:Provider '{database.Provider}' is not supported; use Sqlite or Postgres.");
        }

        switch (storage.Provider.ToLowerInvariant())
        {
            case "localdisk":
                services.AddSingleton<IBlobStore>(new LocalDiskBlobStore(storage.LocalPath));
                break;
            case "s3":
                var s3 = Section<S3Options>(configuration, S3Options.Section, o => o.Errors());
                services.AddSingleton<IBlobStore>(_ => new S3BlobStore(s3));
                break;
            default:
                throw Invalid<StorageOptions>(StorageOptions.Section, $"Storage:Provider '{storage.Provider}' is not supported; use LocalDisk or S3.");
        }

        switch (queue.Provider.ToLowerInvariant())
        {
            case "inprocess":
                services.AddSingleton<ITaskQueue, InProcessTaskQueue>();
                break;
            case "rabbitmq":
                var rabbit = Section<RabbitMqOptions>(configuration, RabbitMqOptions.Section, o => o.Errors());

                // One unacknowledged message per conversion loop: a busy worker never sits on messages another could run.
                var loops = configuration.GetValue("Worker:Concurrency", 0) is > 0 and var configured ? configured : Environment.ProcessorCount;
                var prefetch = rabbit.Prefetch > 0 ? rabbit.Prefetch : loops;
                services.AddSingleton<ITaskQueue>(provider => new RabbitMqTaskQueue(rabbit, prefetch, provider.GetRequiredService<ILogger<RabbitMqTaskQueue>>()));
                break;
            case "pubsub":
                var pubsub = Section<PubSubOptions>(configuration, PubSubOptions.Section, o => o.Errors());
                services.AddHttpClient(nameof(PubSubTaskQueue));
                services.AddSingleton<ITaskQueue>(provider => new PubSubTaskQueue(
                    provider.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(PubSubTaskQueue)), pubsub, provider.GetRequiredService<ILogger<PubSubTaskQueue>>()));
                break;
            default:
                throw Invalid<QueueOptions>(QueueOptions.Section, $"Queue:Provider '{queue.Provider}' is not supported; use InProcess, RabbitMq or PubSub.");
        }

        services.AddSingleton<IMediaConverter, FfmpegMediaConverter>();

        // A task's life: its transitions (on the database's clock) and the one publisher.
        services.AddScoped(provider => new TaskTransitions(provider.GetRequiredService<AppDbContext>(), provider.GetRequiredService<TimeProvider>()));
        services.AddScoped<TaskPublisher>();

        // Checked in every role so a wrong key stops any process, though only workers send.
        var notifications = Section<NotificationOptions>(configuration, NotificationOptions.Section, o => o.Errors());
        services.AddSingleton(notifications);
        services.AddSingleton(new SmtpMailSender(notifications));
        return services;
    }

    private static T Bind<T>(IServiceCollection services, IConfiguration configuration, string section)
        where T : class, new()
    {
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();
        return configuration.GetSection(section).Get<T>() ?? new T();
    }

    /// <summary>Binds an adapter's section and fails at once, naming every wrong key, when it is not usable.</summary>
    private static T Section<T>(IConfiguration configuration, string section, Func<T, IEnumerable<string>> errors)
        where T : class, new()
    {
        var options = configuration.GetSection(section).Get<T>() ?? new T();
        var failures = errors(options).ToList();
        return failures.Count == 0 ? options : throw Invalid<T>(section, failures.ToArray());
    }

    private static OptionsValidationException Invalid<T>(string section, params string[] failures) => new(section, typeof(T), failures);

    private static string PostgresConnectionString(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                throw Invalid<DatabaseOptions>(DatabaseOptions.Section, "Database:ConnectionString names no Host; use e.g. Host=127.0.0.1;Port=5432;Database=audioconverter;Username=app;Password=...");
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException e)
        {
            throw Invalid<DatabaseOptions>(DatabaseOptions.Section, $"Database:ConnectionString is not a valid PostgreSQL connection string ({e.Message}); use e.g. Host=127.0.0.1;Port=5432;Database=audioconverter;Username=app;Password=...");
        }
    }
}
