using AudioConverter.Core.Storage;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Worker;

/// <summary>
/// Removes what a process killed mid-way leaves behind: work folders of conversions no live lease owns, and
/// blobs with no task row (an upload written but never recorded, a half-written <c>.partial</c> file).
/// </summary>
public sealed partial class LeftoverCleaner(IServiceScopeFactory scopes, IBlobStore blobs, IOptions<WorkerOptions> options, TimeProvider clock, ILogger<LeftoverCleaner> logger)
{
    private const string PartialSuffix = ".partial";
    private const int BatchSize = 500;
    private DateTime nextBlobPass = DateTime.MinValue;

    /// <summary>Deletes the work folders of conversions whose lease owner no longer holds a task (it died or finished).</summary>
    public async Task CleanTempFolderAsync(CancellationToken cancellationToken)
    {
        var folder = options.Value.EffectiveTempPath;
        if (!Directory.Exists(folder))
        {
            return;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var folders = Directory.GetDirectories(folder).Select(path => (Path: path, Owner: LeaseOwnerOf(path))).ToList();
        var owners = folders.Where(f => f.Owner is not null).Select(f => f.Owner).Distinct().ToList();
        HashSet<string?> live = [];
        if (owners.Count > 0)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            live = [.. await db.Tasks.AsNoTracking().Where(t => owners.Contains(t.LeaseOwner)).Select(t => t.LeaseOwner).ToListAsync(cancellationToken)];
        }

        foreach (var (path, owner) in folders)
        {
            // A folder is created after its claim, so a live conversion's owner is always in a row;
            // folders of another shape are left for twice a lease, in case something else made them.
            var stale = owner is not null
                ? !live.Contains(owner)
                : Directory.GetLastWriteTimeUtc(path) < now.AddSeconds(-options.Value.LeaseSeconds * 2);
            if (stale)
            {
                TryDelete(() => Directory.Delete(path, recursive: true));
            }
        }
    }

    /// <summary>Deletes blobs older than Worker:OrphanBlobSeconds that no task row refers to (local disk only).</summary>
    public async Task CleanBlobsAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (blobs is not LocalDiskBlobStore local || now < nextBlobPass)
        {
            return;
        }

        var age = TimeSpan.FromSeconds(options.Value.OrphanBlobSeconds);
        nextBlobPass = now + TimeSpan.FromSeconds(Math.Clamp(options.Value.OrphanBlobSeconds / 2, 1, 600));
        var cutoff = now - age;
        var removed = 0;
        foreach (var prefix in new[] { "originals", "converted" })
        {
            foreach (var batch in local.List(prefix).Where(b => b.LastWriteUtc < cutoff).Select(b => b.Key).Chunk(BatchSize))
            {
                List<string?> candidates = [.. batch.Where(k => !k.EndsWith(PartialSuffix, StringComparison.Ordinal))];
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                HashSet<string?> referenced = [];
                if (candidates.Count > 0)
                {
                    var rows = await db.Tasks.AsNoTracking()
                        .Where(t => candidates.Contains(t.InputKey) || candidates.Contains(t.OutputKey))
                        .Select(t => new { t.InputKey, t.OutputKey })
                        .ToListAsync(cancellationToken);
                    referenced = [.. rows.Select(r => r.InputKey), .. rows.Select(r => r.OutputKey)];
                }

                foreach (var key in batch.Where(k => !referenced.Contains(k)))
                {
                    await blobs.DeleteAsync(key, cancellationToken);
                    removed++;
                }
            }
        }

        if (removed > 0)
        {
            LogRemoved(logger, removed);
        }
    }

    private static string? LeaseOwnerOf(string path)
    {
        // Work folders are named {taskId}-v{version}-{leaseOwner}, the owner a 32-digit hex id.
        var name = Path.GetFileName(path);
        var dash = name.LastIndexOf('-');
        var owner = dash >= 0 ? name[(dash + 1)..] : "";
        return owner.Length == 32 && owner.All(char.IsAsciiHexDigitLower) ? owner : null;
    }

    private static void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (IOException)
        {
            // In use or already gone; the next sweep tries again.
        }
        catch (UnauthorizedAccessException)
        {
            // Not ours to delete.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} blobs that no task refers to (left by an interrupted upload or conversion)")]
    private static partial void LogRemoved(ILogger logger, int count);
}
