using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Auth;

/// <summary>
/// A fixed window per client that counts what a password guesser or an account farm makes: failed logins and
/// every signup. Successful logins do not count, so a client that knows its password is never locked out by its
/// own traffic. Once the window is full, every auth request of that client gets 429 until the window ends.
/// </summary>
public sealed class AuthAttemptLimiter(IOptions<RateLimitOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private const int PurgeAbove = 10_000;
    private readonly ConcurrentDictionary<string, Counter> counters = new();

    /// <summary>How long the client must wait, or null when it may try now.</summary>
    public TimeSpan? RetryAfter(string client)
    {
        if (!counters.TryGetValue(client, out var counter))
        {
            return null;
        }

        var now = clock.GetUtcNow();
        lock (counter)
        {
            var ends = counter.Start + Window;
            return counter.Count >= options.Value.AuthPermitsPerMinute && now < ends ? ends - now : null;
        }
    }

    /// <summary>Counts one attempt against the client's current window.</summary>
    public void Count(string client)
    {
        var now = clock.GetUtcNow();
        if (counters.Count > PurgeAbove)
        {
            Purge(now);
        }

        var counter = counters.GetOrAdd(client, _ => new Counter { Start = now });
        lock (counter)
        {
            if (now >= counter.Start + Window)
            {
                counter.Start = now;
                counter.Count = 0;
            }

            counter.Count++;
        }
    }

    /// <summary>The client an attempt is counted against: its IPv4 address, or the /64 network of an IPv6 address (one host usually owns a whole /64).</summary>
    public static string ClientKey(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "local";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private void Purge(DateTimeOffset now)
    {
        foreach (var (client, counter) in counters)
        {
            bool expired;
            lock (counter)
            {
                expired = now >= counter.Start + Window;
            }

            if (expired)
            {
                counters.TryRemove(client, out _);
            }
        }
    }

    private sealed class Counter
    {
        public DateTimeOffset Start { get; set; }

        public int Count { get; set; }
    }
}
