using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace AudioConverter.Infrastructure.Notifications;

/// <summary>Sends one plain-text message over SMTP with MailKit, one connection per message (notifications are rare).</summary>
public sealed class SmtpMailSender(NotificationOptions options)
{
    /// <summary>
    /// Sends <paramref name="subject"/> and <paramref name="body"/> to one address. MimeKit encodes header values, and
    /// the subject is cut to one line first, so text from a client cannot add a header or a recipient.
    /// </summary>
    public async Task SendAsync(string recipient, string subject, string body, CancellationToken cancellationToken)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(options.From));
        message.To.Add(Recipient(recipient));
        message.Subject = OneLine(subject);
        message.Body = new TextPart("plain") { Text = body };

        using var client = new SmtpClient { Timeout = (int)options.Timeout.TotalMilliseconds };
        await client.ConnectAsync(options.SmtpHost, options.SmtpPort, Security(), cancellationToken);
        if (options.Username.Length > 0)
        {
            // Auto falls back to plain text when the server offers no STARTTLS, which is also what a man in the middle
            // who strips it makes happen: credentials are only ever sent over TLS.
            if (!client.IsSecure)
            {
                await client.DisconnectAsync(quit: true, cancellationToken);
                throw new System.Security.Authentication.AuthenticationException(
                    $"{options.SmtpHost}:{options.SmtpPort} offered no TLS, so the SMTP password was not sent; use port 465 or a server that offers STARTTLS (Notifications:UseStartTls Required fails at once).");
            }

            await client.AuthenticateAsync(options.Username, options.Password, cancellationToken);
        }

        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    /// <summary>Exactly one mailbox, with no display name: an address holding a list or a group is refused.</summary>
    public static MailboxAddress Recipient(string address) =>
        MailboxAddress.TryParse(address.Trim(), out var mailbox) && string.IsNullOrEmpty(mailbox.Name) && mailbox.Address == address.Trim()
            ? mailbox
            : throw new FormatException("The owner's e-mail address is not a single mailbox.");

    /// <summary>Control and line-break characters become spaces, so a header value stays on one line.</summary>
    public static string OneLine(string text) =>
        string.Concat(text.Select(c => char.IsControl(c) || c is '\u2028' or '\u2029' ? ' ' : c)).Trim();

    private SecureSocketOptions Security() => options.TlsMode switch
    {
        StartTlsMode.None => SecureSocketOptions.None,
        StartTlsMode.Required => SecureSocketOptions.StartTls,
        _ => SecureSocketOptions.Auto,
    };
}
