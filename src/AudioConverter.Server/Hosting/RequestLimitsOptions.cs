using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Server.Hosting;

/// <summary>Kestrel's connection limits: what a slow or oversized request may cost the server before it is cut off.</summary>
public sealed class RequestLimitsOptions
{
    public const string Section = "RequestLimits";

    /// <summary>All request headers together (431 beyond).</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxRequestHeadersTotalBytes { get; set; } = 32 * 1024;

    [Range(1, 1000)]
    public int MaxRequestHeaderCount { get; set; } = 64;

    /// <summary>Time a client has to send all request headers; a slowloris connection is closed after it.</summary>
    [Range(1, 600)]
    public int RequestHeadersTimeoutSeconds { get; set; } = 30;

    public TimeSpan RequestHeadersTimeout => TimeSpan.FromSeconds(RequestHeadersTimeoutSeconds);

    /// <summary>A body arriving slower than this (after the grace period) is cut off.</summary>
    [Range(1, 1024 * 1024)]
    public int MinRequestBodyBytesPerSecond { get; set; } = 240;

    [Range(1, 600)]
    public int MinRequestBodyGraceSeconds { get; set; } = 5;

    public TimeSpan MinRequestBodyGrace => TimeSpan.FromSeconds(MinRequestBodyGraceSeconds);

    [Range(1, 3600)]
    public int KeepAliveTimeoutSeconds { get; set; } = 130;

    public TimeSpan KeepAliveTimeout => TimeSpan.FromSeconds(KeepAliveTimeoutSeconds);

    /// <summary>Bodies of routes other than uploads (uploads set their own limit from Uploads:MaxFileBytes).</summary>
    [Range(1024, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Take the client address from the last X-Forwarded-For entry. Only for a server reachable solely through a proxy
    /// that sets it (App Engine, Cloud Run, a load balancer): otherwise every client would share the proxy's address in
    /// the auth limiter. Off by default, so a client cannot pick its own address by sending the header.
    /// </summary>
    public bool TrustForwardedHeaders { get; set; }
}
