using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Worker;

/// <summary>
/// Work not done twice. After its claim, before ffmpeg, the worker looks for a processed task of the same user with
/// the same input bytes (<see cref="ConversionTask.InputSha256"/>, hashed while the upload streamed), the same target
/// and the same resolved options (<see cref="ConversionTask.Options"/>, compared as stored). If one is found whose
/// output still exists, that output is copied inside the store to this claim's own fenced key: every task keeps its
/// own file, so deleting, expiring, re-converting or counting one task's output (the storage quota) never touches
/// another's, a claim that lost its fence deletes only its own copy, and the orphan scan sees an ordinary output.
/// The task then finishes with the earlier conversion's facts, and a note saying its output was reused.
/// </summary>
public static class ConversionReuse
{
    /// <summary>The start of the note a reused result carries (an earlier reuse's note is replaced, not repeated).</summary>
    public const string NotePrefix = "The output was reused from task ";

    /// <summary>An earlier identical conversion's output, copied to this claim's key.</summary>
    public sealed record Reused(long SourceTaskId, string OutputKey, long OutputBytes, double? DurationSeconds, string Result);

    /// <summary>
    /// Copies the newest matching processed task's output to <paramref name="outputKey"/>; null when there is none, or
    /// when every match lost its output meanwhile (deleted, expired or re-converted), and the task is converted anew.
    /// </summary>
    public static async Task<Reused?> TryCopyAsync(AppDbContext db, IBlobStore blobs, ConversionTask task, string outputKey, CancellationToken cancellationToken)
    {
        if (task.InputSha256 is null)
        {
            return null;
        }

        var (id, userId, sha, target, options) = (task.Id, task.UserId, task.InputSha256, task.NewFormat, task.Options);

        // The (UserId, InputSha256, NewFormat, Status) index finds the candidates; the options are compared on those few rows.
        var candidates = await db.Tasks.AsNoTracking()
            .Where(t => t.UserId == userId && t.InputSha256 == sha && t.NewFormat == target && t.Status == ConversionStatus.Processed
                && t.Id != id && t.Options == options && t.OutputKey != null && t.Result != null)
            .OrderByDescending(t => t.Id)
            .Select(t => new { t.Id, t.OutputKey, t.DurationSeconds, t.Result })
            .Take(3)
            .ToListAsync(cancellationToken);
        foreach (var candidate in candidates)
        {
            var bytes = await blobs.CopyAsync(candidate.OutputKey!, outputKey, cancellationToken);
            if (bytes is not { } length || ConversionResult.FromJson(candidate.Result) is not { } result)
            {
                continue;
            }

            var note = $"{NotePrefix}{candidate.Id}: the same file was converted to {target} with the same options before, so it was not converted again.";
            var notes = result.Notes.Where(n => !n.StartsWith(NotePrefix, StringComparison.Ordinal)).Append(note).ToList();
            return new Reused(candidate.Id, outputKey, length, candidate.DurationSeconds, (result with { Notes = notes }).ToJson());
        }

        return null;
    }
}
