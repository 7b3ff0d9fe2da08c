using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure.Notifications;

/// <summary>Notifications — e-mail to a task's owner when it is processed or failed. No SmtpHost means no e-mail.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>SMTP server name or address; empty switches notifications off (the embedded default).</summary>
    public string SmtpHost { get; set; } = "";

    /// <summary>587 (submission, STARTTLS), 465 (TLS from the first byte) or 25.</summary>
    [Range(1, 65535, ErrorMessage = "{0} must be a port between 1 and 65535: 587, 465 or 25.")]
    public int SmtpPort { get; set; } = 587;

    /// <summary>Auto (TLS on 465, STARTTLS when the server offers it), None (plain text) or Required (STARTTLS or no mail).</summary>
    [OneOf("Auto", "None", "Required")]
    public string UseStartTls { get; set; } = "Auto";

    /// <summary>SMTP login; empty sends without authenticating.</summary>
    public string Username { get; set; } = "";

    public string Password { get; set; } = "";

    /// <summary>Sender of the messages, e.g. "AudioConverter &lt;noreply@example.com&gt;".</summary>
    public string From { get; set; } = "";

    /// <summary>The public address of the service, e.g. https://audio.example.com, used for links in the messages; empty gives paths only.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Tries per message before it is given up with a warning.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Wait before the second try; it doubles for each further one.</summary>
    [Range(0, 3600)]
    public double RetryDelaySeconds { get; set; } = 5;

    public TimeSpan RetryDelay => TimeSpan.FromSeconds(RetryDelaySeconds);

    /// <summary>How long one SMTP conversation may take.</summary>
    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 30;

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    public bool Enabled => !string.IsNullOrWhiteSpace(SmtpHost);

    /// <summary>The parsed UseStartTls setting, or null when it is not one of the three words.</summary>
    public StartTlsMode? TlsMode => UseStartTls.Trim().ToLowerInvariant() switch
    {
        "auto" => StartTlsMode.Auto,
        "none" => StartTlsMode.None,
        "required" => StartTlsMode.Required,
        _ => null,
    };
}
