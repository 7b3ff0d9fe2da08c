using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Auth;

/// <summary>
/// A fixed one-minute window per client with two budgets. Failures (failed logins and every signup) are what a
/// password guesser or an account farm makes, limited by RateLimits:AuthPermitsPerMinute. Logins of any outcome
/// each cost a full password-hash check, limited by RateLimits:LoginsPerMinute, so even right passwords cannot
/// exhaust the CPU. A permit is taken before the request does any work, in one step under the client's lock, so
/// concurrent requests cannot all pass a check that none has counted yet; a login that succeeds gives its failure
/// permit back, so a client that knows its password is not locked out by its own logins.
/// </summary>
public sealed class AuthAttemptLimiter(IOptions<RateLimitOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private const int PurgeAbove = 10_000;
    private readonly ConcurrentDictionary<string, Counter> counters = new();

    /// <summary>Takes a permit for one signup (<paramref name="isLogin"/> false) or one login; null and the time to wait when the client's window is full.</summary>
    public AuthPermit? TryAcquire(string client, bool isLogin, out TimeSpan retryAfter)
    {
        var now = clock.GetUtcNow();
        if (counters.Count > PurgeAbove)
        {
            Purge(now);
        }

        var limits = options.Value;
        var counter = counters.GetOrAdd(client, _ => new Counter { Start = now });
        lock (counter)
        {
            if (now >= counter.Start + Window)
            {
                counter.Start = now;
                counter.Failures = 0;
                counter.Logins = 0;
            }

            if (counter.Failures >= limits.AuthPermitsPerMinute || (isLogin && counter.Logins >= limits.LoginsPerMinute))
            {
                retryAfter = counter.Start + Window - now;
                return null;
            }

            counter.Failures++;
            if (isLogin)
            {
                counter.Logins++;
            }

            retryAfter = TimeSpan.Zero;
            return new AuthPermit(client, counter.Start);
        }
    }

    /// <summary>The attempt did not fail (a successful login): its failure permit goes back, its login permit stays used.</summary>
    public void Succeeded(AuthPermit permit)
    {
        if (counters.TryGetValue(permit.Client, out var counter))
        {
            lock (counter)
            {
                // A permit of a window that has ended counts for nothing any more.
                if (counter.Start == permit.Window && counter.Failures > 0)
                {
                    counter.Failures--;
                }
            }
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

        public int Failures { get; set; }

        public int Logins { get; set; }
    }
}

/// <summary>One attempt's place in its client's window.</summary>
public sealed record AuthPermit(string Client, DateTimeOffset Window);
