using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>The broker's address must be an AMQP URI; the message shows it without its password.</summary>
public sealed class RabbitMqOptionsRules : IValidateOptions<RabbitMqOptions>
{
    public ValidateOptionsResult Validate(string? name, RabbitMqOptions options) =>
        Uri.TryCreate(options.Uri, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps"
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Queue:RabbitMq:Uri '{options.Redacted}' is not an amqp:// or amqps:// URI such as amqp://guest:guest@127.0.0.1:5672/.");
}
