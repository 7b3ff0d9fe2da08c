using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure.Notifications;

/// <summary>The outgoing adapters register themselves here: e-mail over SMTP and webhook deliveries over HTTP.</summary>
public static class NotificationsRegistration
{
    /// <summary>E-mail settings are checked in every role, so a wrong key stops any process, though only workers send.</summary>
    public static IServiceCollection AddMail(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<NotificationOptions, NotificationOptionsRules>(configuration, NotificationOptions.Section);
        services.AddSingleton(provider => provider.GetRequiredService<IOptions<NotificationOptions>>().Value);
        return services.AddSingleton(provider => new SmtpMailSender(provider.GetRequiredService<NotificationOptions>()));
    }

    /// <summary>Which targets are allowed (checked when an endpoint is created and again at each send), and the sender.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<WebhookOptions>(configuration, WebhookOptions.Section);
        services.AddSingleton(provider => new WebhookTargets(provider.GetRequiredService<IOptions<WebhookOptions>>().Value));
        return services.AddSingleton(provider => new WebhookSender(
            provider.GetRequiredService<IOptions<WebhookOptions>>().Value, provider.GetRequiredService<WebhookTargets>(), provider.GetRequiredService<TimeProvider>()));
    }
}
