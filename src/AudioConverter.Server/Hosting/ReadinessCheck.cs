using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using AudioConverter.Infrastructure.Data;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AudioConverter.Server.Hosting;

/// <summary>Ready when the configured database, blob store and queue all answer.</summary>
public sealed class ReadinessCheck(AppDbContext db, IBlobStore blobs, ITaskQueue queue) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failures = new List<string>();
        await Probe("database", async () => await db.Database.CanConnectAsync(cancellationToken));
        await Probe("blob store", () => blobs.IsReadyAsync(cancellationToken));
        await Probe("queue", () => queue.IsReadyAsync(cancellationToken));
        return failures.Count == 0 ? HealthCheckResult.Healthy("database, blob store and queue answer") : HealthCheckResult.Unhealthy($"Not answering: {string.Join(", ", failures)}.");

        async Task Probe(string name, Func<Task<bool>> check)
        {
            try
            {
                if (!await check())
                {
                    failures.Add(name);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failures.Add(name);
            }
        }
    }
}
