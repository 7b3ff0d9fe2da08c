using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// The one way a handler reaches a task: only the caller's own. Another user's task is simply not found (a 404),
/// never a 403, so task ids say nothing about other accounts.
/// </summary>
public static class OwnedTasks
{
    public static IQueryable<ConversionTask> OwnedBy(this IQueryable<ConversionTask> tasks, CurrentUser user) =>
        tasks.Where(t => t.UserId == user.Id);

    /// <summary>The caller's task with this id, as stored now (not tracked); null when there is none or it is someone else's.</summary>
    public static Task<ConversionTask?> FindOwnedTaskAsync(this AppDbContext db, CurrentUser user, long id, CancellationToken cancellationToken) =>
        db.Tasks.AsNoTracking().OwnedBy(user).FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
}
