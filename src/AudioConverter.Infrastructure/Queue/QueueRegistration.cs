using AudioConverter.Core.Queue;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>The queue adapters register themselves here; Queue:Provider picks one, and only its settings are read.</summary>
public static class QueueRegistration
{
    /// <param name="rules">Rules the host adds about the choice, e.g. that split roles need a shared queue.</param>
    public static IServiceCollection AddTaskQueue(this IServiceCollection services, IConfiguration configuration, params IValidateOptions<QueueOptions>[] rules)
    {
        var queue = services.ReadSettings(configuration, QueueOptions.Section, rules);
        return queue.IsRabbitMq ? services.AddRabbitMqTaskQueue(configuration)
            : queue.IsPubSub ? services.AddPubSubTaskQueue(configuration)
            : services.AddInProcessTaskQueue();
    }

    public static IServiceCollection AddInProcessTaskQueue(this IServiceCollection services) =>
        services.AddSingleton<ITaskQueue, InProcessTaskQueue>();

    public static IServiceCollection AddRabbitMqTaskQueue(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<RabbitMqOptions, RabbitMqOptionsRules>(configuration, RabbitMqOptions.Section);
        return services.AddSingleton<ITaskQueue>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
            return new RabbitMqTaskQueue(options, Math.Max(1, options.Prefetch), provider.GetRequiredService<ILogger<RabbitMqTaskQueue>>());
        });
    }

    public static IServiceCollection AddPubSubTaskQueue(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<PubSubOptions, PubSubOptionsRules>(configuration, PubSubOptions.Section);
        services.AddHttpClient(nameof(PubSubTaskQueue));
        return services.AddSingleton<ITaskQueue>(provider => new PubSubTaskQueue(
            provider.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(PubSubTaskQueue)),
            provider.GetRequiredService<IOptions<PubSubOptions>>().Value,
            provider.GetRequiredService<ILogger<PubSubTaskQueue>>()));
    }
}
