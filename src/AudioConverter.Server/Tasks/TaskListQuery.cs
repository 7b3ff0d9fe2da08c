using System.Collections.Concurrent;
using System.Linq.Expressions;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// The page query of GET /api/tasks, compiled once per context type. Keyset pages: the index (UserId, Id) gives any page, the first or
/// the ten-thousandth, in the same few steps. Only the columns a task's answer shows are read, and of the stored
/// result only the part before its waveform peaks (see <see cref="WithoutPeaks"/>): the peaks are about 95% of a
/// processed task's row and the list never shows them.
/// </summary>
public static class TaskListQuery
{
    /// <summary>
    /// Where the peaks start in a stored <c>ConversionResult</c>. They are its last property (the record's order, which
    /// <c>StoredTaskColumnsTests</c> pins), and the text can only be the top-level key: inside a JSON string every
    /// quote is escaped, and no nested object has a <c>peaks</c> member.
    /// </summary>
    public const string PeaksKey = ",\"peaks\":";

    /// <summary>The columns <see cref="TaskResponse.From"/> reads, with the stored result cut before its peaks.</summary>
    private static readonly Expression<Func<ConversionTask, ConversionTask>> Shown = t => new ConversionTask
    {
        Id = t.Id,
        UserId = t.UserId,
        FileName = t.FileName,
        OriginalFormat = t.OriginalFormat,
        NewFormat = t.NewFormat,
        Status = t.Status,
        Error = t.Error,
        CreatedAt = t.CreatedAt,
        UpdatedAt = t.UpdatedAt,
        StartedAt = t.StartedAt,
        ProcessedAt = t.ProcessedAt,
        InputBytes = t.InputBytes,
        OutputBytes = t.OutputBytes,
        DurationSeconds = t.DurationSeconds,
        Options = t.Options,
#pragma warning disable CA1845 // An expression the database runs (substr/instr), not .NET string code: spans do not translate.
        Result = t.Result != null && t.Result.IndexOf(PeaksKey) > 0 ? t.Result.Substring(0, t.Result.IndexOf(PeaksKey)) + "}" : t.Result,
#pragma warning restore CA1845
        InputKey = t.InputKey,
        OutputKey = t.OutputKey,
        Progress = t.Progress,
    };

    /// <summary>
    /// The two page queries, compiled once per model: a compiled query belongs to the model it was compiled against,
    /// and SQLite's and PostgreSQL's contexts each have their own, as has every host of a test process.
    /// </summary>
    private static readonly ConcurrentDictionary<Microsoft.EntityFrameworkCore.Metadata.IModel, Queries> ByContext = new();

    private sealed record Queries(
        Func<AppDbContext, long, long, int, IAsyncEnumerable<ConversionTask>> OldestFirst,
        Func<AppDbContext, long, long, int, IAsyncEnumerable<ConversionTask>> NewestFirst);

    private static Queries Compile(Microsoft.EntityFrameworkCore.Metadata.IModel model) => new(
        EF.CompileAsyncQuery((AppDbContext db, long userId, long after, int limit) =>
            db.Tasks.AsNoTracking().Where(t => t.UserId == userId && t.Id > after).OrderBy(t => t.Id).Take(limit).Select(Shown)),
        EF.CompileAsyncQuery((AppDbContext db, long userId, long before, int limit) =>
            db.Tasks.AsNoTracking().Where(t => t.UserId == userId && t.Id < before).OrderByDescending(t => t.Id).Take(limit).Select(Shown)));

    /// <summary>
    /// Up to <paramref name="limit"/> of the user's tasks after (oldest first) or before (newest first) the cursor's id, as answers.
    /// On SQLite through <paramref name="statements"/>, kept prepared; on PostgreSQL through the compiled query
    /// (Npgsql keeps its own prepared statements on its pooled connections).
    /// </summary>
    public static async Task<List<TaskResponse>> PageAsync(
        AppDbContext db, SqliteTaskListStatements statements, long userId, bool newestFirst, long? cursor, int limit, CancellationToken cancellationToken)
    {
        var after = cursor ?? (newestFirst ? long.MaxValue : 0);
        if (db.Database.IsSqlite())
        {
            var rows = statements.Page(db.Database.GetConnectionString()!, db.Model, userId, newestFirst, after, limit);
            return rows.ConvertAll(TaskResponse.From);
        }

        var queries = ByContext.GetOrAdd(db.Model, Compile);
        var query = newestFirst ? queries.NewestFirst(db, userId, after, limit) : queries.OldestFirst(db, userId, after, limit);
        var tasks = new List<TaskResponse>(Math.Min(limit, 128));
        await foreach (var task in query.WithCancellation(cancellationToken))
        {
            tasks.Add(TaskResponse.From(task));
        }

        return tasks;
    }

    /// <summary>The same cut in memory, for the tests that pin what the query's cut leaves.</summary>
    public static string? WithoutPeaks(string? result) =>
        result is not null && result.IndexOf(PeaksKey, StringComparison.Ordinal) is > 0 and var at ? result[..at] + "}" : result;
}
