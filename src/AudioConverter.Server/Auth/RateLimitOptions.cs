using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Server.Auth;

public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Failed logins plus signups one client (an IPv4 address or an IPv6 /64) may make per minute.</summary>
    [Range(1, 1_000_000)]
    public int AuthPermitsPerMinute { get; set; } = 60;
}
