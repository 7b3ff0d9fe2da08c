using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Idempotency;

/// <summary>Deletes stored idempotent answers older than 24 hours, every ten minutes, on each API process (the delete is idempotent).</summary>
public sealed partial class IdempotencyPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<IdempotencyPruner> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                await PruneAsync(scopes, clock, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPruneFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public static async Task<int> PruneAsync(IServiceScopeFactory scopes, TimeProvider clock, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var cutoff = clock.GetUtcNow().UtcDateTime - IdempotencyMiddleware.Lifetime;
        return await db.IdempotencyRecords.Where(r => r.CreatedAt <= cutoff).ExecuteDeleteAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning idempotency records failed; the next round tries again: {Reason}")]
    private static partial void LogPruneFailed(ILogger logger, string reason);
}
