using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Hosting;

/// <summary>The role must be one of the three.</summary>
public sealed class HostingOptionsRules : IValidateOptions<HostingOptions>
{
    public ValidateOptionsResult Validate(string? name, HostingOptions options) =>
        options.RunsApi || options.RunsWorker
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Role '{options.Role}' is not valid; use --role api, --role worker or --role both.");
}
