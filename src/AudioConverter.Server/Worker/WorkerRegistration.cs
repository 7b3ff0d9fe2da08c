using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Infrastructure.Storage;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Notifications;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Worker;

/// <summary>The worker role: the conversion loops, the sweeper, the storage janitor, and the outbox (webhooks and e-mail leave from here).</summary>
public static class WorkerRegistration
{
    public static IServiceCollection AddWorkerServices(this IServiceCollection services, HostingOptions roles)
    {
        // The worker's settings as the other parts need them: its work folder's name, the broker's prefetch (one
        // unacknowledged message per conversion loop), ffmpeg's priority, the host's shutdown wait, the queue's timeouts.
        services.AddOptions<WorkerOptions>().PostConfigure<IOptions<DatabaseOptions>, IOptions<StorageOptions>, IOptions<S3Options>>(
            (worker, database, storage, s3) => worker.InstanceId = WorkerInstance.Id(database.Value, storage.Value, s3.Value));
        services.AddOptions<RabbitMqOptions>().PostConfigure<IOptions<WorkerOptions>>(
            (rabbit, worker) => rabbit.Prefetch = rabbit.Prefetch > 0 ? rabbit.Prefetch : worker.Value.EffectiveConcurrency);

        // Conversions yield the CPU to requests when both run here (docs/capacity.md, "Uploads while converting").
        services.PostConfigure<MediaOptions>(o =>
        {
            o.IdlePriority ??= roles.RunsBoth;
            o.Niceness = o.Niceness >= 0 ? o.Niceness : roles.RunsBoth ? 10 : 0;
        });
        services.AddOptions<HostOptions>().Configure<IOptions<WorkerOptions>>((host, worker) => host.ShutdownTimeout = worker.Value.ShutdownGrace + TimeSpan.FromSeconds(10));
        services.AddSingleton<QueueTimeouts>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MediaOptions>, QueueTimeouts>(provider => provider.GetRequiredService<QueueTimeouts>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PubSubOptions>, QueueTimeouts>(provider => provider.GetRequiredService<QueueTimeouts>()));

        services.AddHostedService<OutboxDispatcher>();
        services.AddSingleton<TaskProcessor>();
        services.AddSingleton<LeftoverCleaner>();
        services.AddSingleton<ConversionWorker>();
        services.AddSingleton<Sweeper>();
        services.AddHostedService<StartsAfterTheServer<ConversionWorker>>();
        services.AddHostedService<StartsAfterTheServer<Sweeper>>();
        services.AddHostedService<StorageJanitor>();
        return services;
    }
}
