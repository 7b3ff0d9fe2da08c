using MimeKit;
using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure.Notifications;

/// <summary>The e-mail settings that depend on each other; none apply while Notifications:SmtpHost is empty (mail off).</summary>
public sealed class NotificationOptionsRules : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (!MailboxAddress.TryParse(options.From, out _))
        {
            failures.Add(string.IsNullOrWhiteSpace(options.From)
                ? "Notifications:From is required when Notifications:SmtpHost is set, e.g. AudioConverter <noreply@example.com>."
                : $"Notifications:From '{options.From}' is not an e-mail address such as AudioConverter <noreply@example.com>.");
        }

        if (options.Username.Length > 0 && options.TlsMode == StartTlsMode.None)
        {
            failures.Add("Notifications:UseStartTls None would send the SMTP password in plain text; use Auto or Required with Notifications:Username.");
        }

        if (options.Password.Length > 0 && options.Username.Length == 0)
        {
            failures.Add("Notifications:Username is required when Notifications:Password is set.");
        }

        if (options.BaseUrl.Length > 0 && !(Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            failures.Add($"Notifications:BaseUrl '{options.BaseUrl}' is not an absolute http(s) URL such as https://audio.example.com.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
