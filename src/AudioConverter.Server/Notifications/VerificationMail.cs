using System.Security.Cryptography;
using System.Text;
using AudioConverter.Core.Notifications;
using AudioConverter.Core.Users;

namespace AudioConverter.Server.Notifications;

/// <summary>
/// The verification link mailed at signup. Only the token's SHA-256 is stored; the message goes through the outbox in
/// the signup's own transaction, so a restart between the signup and the send loses nothing.
/// </summary>
public static class VerificationMail
{
    public const string Type = "email.verify";

    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The outbox row for <paramref name="user"/> (whose Id may still be unset: the row is linked by navigation-free id after save).</summary>
    public static OutboxMessage Message(User user, string token, string baseUrl, DateTime now)
    {
        var link = $"{baseUrl.TrimEnd('/')}/api/auth/verify?token={token}";
        var body = string.Join("\n",
            "Hello,",
            "",
            $"Someone, probably you, signed up to AudioConverter as {user.Username} with this address.",
            "Open this link to confirm it, so the service may e-mail you when your conversions finish:",
            "",
            link,
            "",
            "If it was not you, ignore this message: no further mail will come.",
            "",
            "-- ",
            "AudioConverter") + "\n";
        return new OutboxMessage
        {
            Kind = OutboxKinds.Email,
            UserId = user.Id,
            Type = Type,
            MessageId = "verify_" + token[..16],
            Payload = user.Email,
            Content = "Confirm your e-mail address for AudioConverter\n" + body,
            CreatedAt = now,
            NextAttemptAt = now,
        };
    }
}
