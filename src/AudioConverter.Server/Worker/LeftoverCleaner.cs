using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Worker;

/// <summary>
/// Removes the work folders a process killed mid-way leaves behind, and only what it provably owns: folders in this
/// installation's own work folder (see <see cref="WorkerInstance"/>), named as a conversion names them, whose lease
/// owner holds no task in this installation's database. Anything else in the folder is left alone.
/// Orphaned blobs and retention are the <see cref="StorageJanitor"/>'s, off the sweeper's short loop.
/// </summary>
public sealed partial class LeftoverCleaner(IServiceScopeFactory scopes, IOptions<WorkerOptions> options, ILogger<LeftoverCleaner> logger)
{
    /// <summary>Deletes the work folders of conversions whose lease owner no longer holds a task (it died or finished).</summary>
    public async Task CleanTempFolderAsync(CancellationToken cancellationToken)
    {
        var folder = options.Value.EffectiveTempPath;
        if (!Directory.Exists(folder))
        {
            return;
        }

        var folders = Directory.GetDirectories(folder).Select(path => (Path: path, Owner: LeaseOwnerOf(path))).Where(f => f.Owner is not null).ToList();
        if (folders.Count == 0)
        {
            return;
        }

        var owners = folders.Select(f => f.Owner).Distinct().ToList();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        HashSet<string?> live = [.. await db.Tasks.AsNoTracking().Where(t => owners.Contains(t.LeaseOwner)).Select(t => t.LeaseOwner).ToListAsync(cancellationToken)];

        // A folder is created after its claim, and listed before the query, so a live conversion's owner is always in a row.
        var removed = 0;
        foreach (var (path, owner) in folders.Where(f => !live.Contains(f.Owner)))
        {
            if (TryDelete(() => Directory.Delete(path, recursive: true)))
            {
                removed++;
            }
        }

        if (removed > 0)
        {
            LogRemoved(logger, removed, folder);
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

    private static bool TryDelete(Action delete)
    {
        try
        {
            delete();
            return true;
        }
        catch (IOException)
        {
            // In use or already gone; the next sweep tries again.
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            // Not ours to delete.
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} work folders of conversions that no longer run, in {Folder}")]
    private static partial void LogRemoved(ILogger logger, int count, string folder);
}
