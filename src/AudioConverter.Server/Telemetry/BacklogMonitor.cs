using System.Diagnostics.Metrics;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Admission;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Telemetry;

/// <summary>The queue as the database sees it: tasks waiting (uploaded) and when the oldest of them started waiting.</summary>
public sealed record BacklogSnapshot(int Queued, DateTime? OldestWaitingSince, DateTime TakenAt)
{
    public TimeSpan OldestAge(DateTime now) => OldestWaitingSince is { } since && now > since ? now - since : TimeSpan.Zero;
}

/// <summary>
/// Counts the backlog with two cheap queries on the (status, updated_at) index at most once per
/// Admission:RefreshSeconds, however many uploads or scrapes ask. Admission control reads it on every upload; the
/// queue-depth and oldest-task-age gauges read the cached value and start a refresh when it has gone stale.
/// </summary>
public sealed partial class BacklogMonitor : IDisposable
{
    private readonly IServiceScopeFactory scopes;
    private readonly TimeProvider clock;
    private readonly TimeSpan maxAge;
    private readonly ILogger<BacklogMonitor> logger;
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly Meter meter;
    private BacklogSnapshot? latest;

    public BacklogMonitor(IServiceScopeFactory scopes, TimeProvider clock, IOptions<AdmissionOptions> options, IMeterFactory meters, ILogger<BacklogMonitor> logger)
    {
        this.scopes = scopes;
        this.clock = clock;
        this.logger = logger;
        maxAge = options.Value.Refresh;
        meter = meters.Create(AudioConverterMetrics.MeterName);
        meter.CreateObservableGauge("audioconverter.queue.depth", () => Observe(s => (double)s.Queued), "{task}", "Tasks waiting for a worker (uploaded), from the database");
        meter.CreateObservableGauge("audioconverter.queue.oldest_age", () => Observe(s => s.OldestAge(Now).TotalSeconds), "s", "Seconds the oldest waiting task has waited");
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>The backlog, at most RefreshSeconds old: queries only when the cached count has gone stale.</summary>
    public async Task<BacklogSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref latest) is { } fresh && Now - fresh.TakenAt < maxAge)
        {
            return fresh;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have refreshed it while this one waited.
            if (latest is { } refreshed && Now - refreshed.TakenAt < maxAge)
            {
                return refreshed;
            }

            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var waiting = db.Tasks.AsNoTracking().Where(t => t.Status == ConversionStatus.Uploaded);
            var queued = await waiting.CountAsync(cancellationToken);
            var oldest = queued == 0 ? null : await waiting.MinAsync(t => (DateTime?)t.UpdatedAt, cancellationToken);
            var snapshot = new BacklogSnapshot(queued, oldest is { } o ? DateTime.SpecifyKind(o, DateTimeKind.Utc) : null, Now);
            Volatile.Write(ref latest, snapshot);
            return snapshot;
        }
        finally
        {
            gate.Release();
        }
    }

    private IEnumerable<Measurement<double>> Observe(Func<BacklogSnapshot, double> value)
    {
        var snapshot = Volatile.Read(ref latest);
        if (snapshot is null || Now - snapshot.TakenAt >= maxAge)
        {
            // A gauge callback must not block the scrape: refresh in the background for the next one.
            _ = RefreshQuietlyAsync();
        }

        return snapshot is null ? [] : [new Measurement<double>(value(snapshot))];
    }

    private async Task RefreshQuietlyAsync()
    {
        try
        {
            await GetAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRefreshFailed(logger, e.Message);
        }
    }

    // The meter belongs to the host's IMeterFactory, which disposes it with the host.
    public void Dispose() => gate.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not count the queued tasks: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, string reason);
}
