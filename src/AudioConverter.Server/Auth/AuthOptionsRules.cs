using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Auth;

/// <summary>A configured signing key must be long enough for HS256; empty means one is generated and kept at SigningKeyPath.</summary>
public sealed class AuthOptionsRules : IValidateOptions<AuthOptions>
{
    public const int MinimumKeyLength = 32;

    public ValidateOptionsResult Validate(string? name, AuthOptions options) =>
        string.IsNullOrWhiteSpace(options.SigningKey) || options.SigningKey.Length >= MinimumKeyLength
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Auth:SigningKey must be at least {MinimumKeyLength} characters long (it has {options.SigningKey.Length}); leave it empty to have a key generated into Auth:SigningKeyPath.");
}
