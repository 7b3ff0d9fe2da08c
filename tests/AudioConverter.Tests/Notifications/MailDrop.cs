using AudioConverter.Tests.Contracts;
using AudioConverter.Tests.Faults;
using MimeKit;

namespace AudioConverter.Tests.Notifications;

/// <summary>
/// The SMTP sink started by scripts/services/smtp.sh: every message it accepted, as a .eml file whose first header,
/// X-Envelope-To, lists the envelope's recipients. Tests run in parallel, so each finds its own mail by a unique address.
/// </summary>
public static class MailDrop
{
    public static string Endpoint => ExternalServices.Require("AC_TEST_SMTP", "the SMTP sink");

    public static string Folder => ExternalServices.Require("AC_TEST_SMTP_MAILDIR", "the SMTP sink's mail folder");

    /// <summary>Settings that make the app e-mail through the sink.</summary>
    public static Dictionary<string, string?> Settings(string baseUrl = "")
    {
        var endpoint = Endpoint.Split(':');
        return new Dictionary<string, string?>
        {
            ["Notifications:SmtpHost"] = endpoint[0],
            ["Notifications:SmtpPort"] = endpoint[1],
            ["Notifications:UseStartTls"] = "None",
            ["Notifications:From"] = "AudioConverter <noreply@audioconverter.test>",
            ["Notifications:BaseUrl"] = baseUrl,
            ["Notifications:RetryDelaySeconds"] = "0.2",
        };
    }

    /// <summary>Every message with <paramref name="address"/> among its envelope recipients.</summary>
    public static List<MimeMessage> To(string address)
    {
        var found = new List<MimeMessage>();
        foreach (var file in Directory.GetFiles(Folder, "*.eml").Order(StringComparer.Ordinal))
        {
            var message = MimeMessage.Load(file);
            var envelope = (message.Headers["X-Envelope-To"] ?? "").Split(',', StringSplitOptions.TrimEntries);
            if (envelope.Contains(address, StringComparer.OrdinalIgnoreCase))
            {
                found.Add(message);
            }
        }

        return found;
    }

    /// <summary>Polls until <paramref name="count"/> messages reached <paramref name="address"/>, or the deadline passes.</summary>
    public static Task<List<MimeMessage>> WaitForAsync(string address, int count = 1, TimeSpan? timeout = null) => Deadline.UntilAsync(
        () => Task.FromResult(To(address)),
        messages => messages.Count >= count,
        timeout ?? TimeSpan.FromSeconds(30),
        messages => $"{count} e-mails to reach {address} in {Folder} ({messages.Count} so far)");
}
