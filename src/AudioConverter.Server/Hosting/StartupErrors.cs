using AudioConverter.Infrastructure;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Hosting;

/// <summary>Turns configuration and connection failures at start-up into one sentence naming the setting.</summary>
public static class StartupErrors
{
    public static string? Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case OptionsValidationException options:
                    // Every failure already starts with or names its key (Settings).
                    return string.Join(" ", options.Failures);
                case StartupConfigurationException configuration:
                    return configuration.Message;
                case BackendUnreachableException unreachable:
                    return BackendStartup.Describe(unreachable);
                case IOException bind when bind.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException:
                    // "Failed to bind to address http://127.0.0.1:8080: address already in use."
                    return ListenAddresses.Message(bind.Message.Replace("Failed to bind to address ", "", StringComparison.Ordinal).Split(": address already in use", 2)[0].TrimEnd('.'));
            }
        }

        return null;
    }
}
