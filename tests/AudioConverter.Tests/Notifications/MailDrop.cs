using AudioConverter.Tests.Contracts;
using MimeKit;

namespace AudioConverter.Tests.Notifications;

/// <summary>
/// The SMTP sink started by scripts/services/smtp.sh: every message it accepted, as a .eml file whose first header,
/// X-Envelope-To, lists the envelope's recipients. Tests run in parallel, so each finds its own mail by a unique address.
/// </summary>
public static class MailDrop
{
    public const string VerificationSubject = "Confirm your e-mail address for AudioConverter";

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
    public static List<MimeMessage> To(string address, bool verification = false)
    {
        var found = new List<MimeMessage>();
        foreach (var file in Directory.GetFiles(Folder, "*.eml").Order(StringComparer.Ordinal))
        {
            var message = MimeMessage.Load(file);
            var envelope = (message.Headers["X-Envelope-To"] ?? "").Split(',', StringSplitOptions.TrimEntries);
            if (envelope.Contains(address, StringComparer.OrdinalIgnoreCase) && (message.Subject == VerificationSubject) == verification)
            {
                found.Add(message);
            }
        }

        return found;
    }

    /// <summary>Polls until <paramref name="count"/> messages reached <paramref name="address"/>, or the deadline passes.</summary>
    public static async Task<List<MimeMessage>> WaitForAsync(string address, int count = 1, TimeSpan? timeout = null, bool verification = false)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var messages = To(address, verification);
            if (messages.Count >= count)
            {
                return messages;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{messages.Count} of {count} e-mails reached {address} in {Folder} before the deadline.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits for the verification e-mail sent at signup, follows its link, and checks /api/me says verified.</summary>
    public static async Task VerifyAsync(HttpClient client, string address)
    {
        var message = Assert.Single(await WaitForAsync(address, verification: true));
        var link = System.Text.RegularExpressions.Regex.Match(message.TextBody ?? "", @"/api/auth/verify\?token=[0-9a-f]{64}").Value;
        Assert.NotEmpty(link);
        var verified = await client.GetAsync(link);
        Assert.Equal(System.Net.HttpStatusCode.OK, verified.StatusCode);
    }
}
