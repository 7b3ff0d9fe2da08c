using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure.Storage;

/// <summary>The S3 settings that attributes cannot check: the endpoint's form, and keys given in pairs.</summary>
public sealed class S3OptionsRules : IValidateOptions<S3Options>
{
    public ValidateOptionsResult Validate(string? name, S3Options options)
    {
        var failures = new List<string>();
        if (options.ServiceUrl.Length > 0 && !Uri.TryCreate(options.ServiceUrl, UriKind.Absolute, out _))
        {
            failures.Add($"Storage:S3:ServiceUrl '{options.ServiceUrl}' is not an absolute URL such as http://127.0.0.1:9000.");
        }

        if (options.AccessKey.Length > 0 != options.SecretKey.Length > 0)
        {
            failures.Add("Storage:S3:AccessKey and Storage:S3:SecretKey must be set together.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
