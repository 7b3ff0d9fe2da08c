using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Server.Auth;

public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Failed logins plus signups one client (an IPv4 address or an IPv6 /64) may make per minute.</summary>
    [Range(1, 1_000_000)]
    public int AuthPermitsPerMinute { get; set; } = 60;

    /// <summary>Logins of any outcome one client may make per minute: each costs a full password-hash check.</summary>
    [Range(1, 1_000_000)]
    public int LoginsPerMinute { get; set; } = 120;
}
