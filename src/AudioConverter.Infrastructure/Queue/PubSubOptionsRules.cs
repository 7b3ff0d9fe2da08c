using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>The Pub/Sub endpoint must be an absolute URL.</summary>
public sealed class PubSubOptionsRules : IValidateOptions<PubSubOptions>
{
    public ValidateOptionsResult Validate(string? name, PubSubOptions options) =>
        Uri.TryCreate(options.Endpoint, UriKind.Absolute, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Queue:PubSub:Endpoint '{options.Endpoint}' is not an absolute URL such as https://pubsub.googleapis.com/.");
}
