using MimeKit;

namespace AudioConverter.Infrastructure.Notifications;

/// <summary>Notifications — e-mail to a task's owner when it is processed or failed. No SmtpHost means no e-mail.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>SMTP server name or address; empty switches notifications off (the embedded default).</summary>
    public string SmtpHost { get; set; } = "";

    /// <summary>587 (submission, STARTTLS), 465 (TLS from the first byte) or 25.</summary>
    public int SmtpPort { get; set; } = 587;

    /// <summary>Auto (TLS on 465, STARTTLS when the server offers it), None (plain text) or Required (STARTTLS or no mail).</summary>
    public string UseStartTls { get; set; } = "Auto";

    /// <summary>SMTP login; empty sends without authenticating.</summary>
    public string Username { get; set; } = "";

    public string Password { get; set; } = "";

    /// <summary>Sender of the messages, e.g. "AudioConverter &lt;noreply@example.com&gt;".</summary>
    public string From { get; set; } = "";

    /// <summary>The public address of the service, e.g. https://audio.example.com, used for links in the messages; empty gives paths only.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Tries per message before it is given up with a warning.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Wait before the second try; it doubles for each further one.</summary>
    public double RetryDelaySeconds { get; set; } = 5;

    /// <summary>How long one SMTP conversation may take.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    public bool Enabled => !string.IsNullOrWhiteSpace(SmtpHost);

    /// <summary>Validation errors, each naming the setting to fix; none when notifications are off.</summary>
    public IEnumerable<string> Errors()
    {
        if (!Enabled)
        {
            yield break;
        }

        if (SmtpPort is < 1 or > 65535)
        {
            yield return $"Notifications:SmtpPort {SmtpPort} is not a port; use 587, 465 or 25.";
        }

        if (TlsMode is null)
        {
            yield return $"Notifications:UseStartTls '{UseStartTls}' is not valid; use Auto, None or Required.";
        }

        if (!MailboxAddress.TryParse(From, out _))
        {
            yield return string.IsNullOrWhiteSpace(From)
                ? "Notifications:From is required when Notifications:SmtpHost is set, e.g. AudioConverter <noreply@example.com>."
                : $"Notifications:From '{From}' is not an e-mail address such as AudioConverter <noreply@example.com>.";
        }

        if (Username.Length > 0 && TlsMode == StartTlsMode.None)
        {
            yield return "Notifications:UseStartTls None would send the SMTP password in plain text; use Auto or Required with Notifications:Username.";
        }

        if (Password.Length > 0 && Username.Length == 0)
        {
            yield return "Notifications:Username is required when Notifications:Password is set.";
        }

        if (BaseUrl.Length > 0 && !(Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            yield return $"Notifications:BaseUrl '{BaseUrl}' is not an absolute http(s) URL such as https://audio.example.com.";
        }

        if (MaxAttempts is < 1 or > 20)
        {
            yield return "Notifications:MaxAttempts must be between 1 and 20.";
        }

        if (RetryDelaySeconds is < 0 or > 3600)
        {
            yield return "Notifications:RetryDelaySeconds must be between 0 and 3600.";
        }

        if (TimeoutSeconds is < 1 or > 600)
        {
            yield return "Notifications:TimeoutSeconds must be between 1 and 600.";
        }
    }

    /// <summary>The parsed UseStartTls setting, or null when it is not one of the three words.</summary>
    public StartTlsMode? TlsMode => UseStartTls.Trim().ToLowerInvariant() switch
    {
        "auto" => StartTlsMode.Auto,
        "none" => StartTlsMode.None,
        "required" => StartTlsMode.Required,
        _ => null,
    };
}
