namespace AudioConverter.Infrastructure.Notifications;

/// <summary>How the SMTP connection is protected.</summary>
public enum StartTlsMode
{
    /// <summary>TLS from the first byte on port 465; elsewhere STARTTLS when the server offers it.</summary>
    Auto,

    /// <summary>Plain text: only for a relay on the same machine or a private network.</summary>
    None,

    /// <summary>STARTTLS, and no mail when the server does not offer it.</summary>
    Required,
}
