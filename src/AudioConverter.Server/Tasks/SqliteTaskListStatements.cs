using System.Collections.Concurrent;
using System.Globalization;
using AudioConverter.Core.Tasks;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// The listing's page query on SQLite, kept prepared. The profile of GET /api/tasks showed SQLite compiling the same
/// statement again for every request (a fifth of the listing's time) and EF opening and closing a connection around
/// it: Microsoft.Data.Sqlite finalizes a command's statements when its connection closes, and EF closes after every
/// query. So a few connections stay open here, each with the two page statements compiled once; a request borrows
/// one for the length of its read. They read committed data like any other connection (WAL: a reader sees the last
/// commit when its statement starts), so a page is never older than EF's would be.
/// </summary>
public sealed class SqliteTaskListStatements : IDisposable
{
    /// <summary>
    /// Connections kept open at most. A borrower holds one only while it steps the rows, but a thread can be preempted
    /// with it on a busy machine, so as many may be out at once as the thread pool has threads; a connection given
    /// back beyond this is closed, and one opened for a borrower pays the statement compile the pool exists to save.
    /// </summary>
    private const int MaxIdle = 32;

    private readonly ConcurrentDictionary<string, ConcurrentBag<Kept>> idle = new(StringComparer.Ordinal);
    private bool disposed;

    /// <summary>
    /// The columns read, in order: the ones <see cref="TaskResponse.From"/> reads (TaskListQueryTests checks no other
    /// column changes an answer), with the stored result cut before its peaks as <see cref="TaskListQuery"/> does.
    /// </summary>
    private static readonly string[] Columns =
    [
        nameof(ConversionTask.Id), nameof(ConversionTask.FileName), nameof(ConversionTask.OriginalFormat), nameof(ConversionTask.NewFormat),
        nameof(ConversionTask.Status), nameof(ConversionTask.Error), nameof(ConversionTask.CreatedAt), nameof(ConversionTask.UpdatedAt),
        nameof(ConversionTask.StartedAt), nameof(ConversionTask.ProcessedAt), nameof(ConversionTask.InputBytes), nameof(ConversionTask.OutputBytes),
        nameof(ConversionTask.DurationSeconds), nameof(ConversionTask.Options), nameof(ConversionTask.Result), nameof(ConversionTask.InputKey),
        nameof(ConversionTask.OutputKey), nameof(ConversionTask.Progress),
    ];

    /// <summary>Up to <paramref name="limit"/> of the user's tasks after (oldest first) or before (newest first) <paramref name="cursor"/>.</summary>
    public List<ConversionTask> Page(string connectionString, IModel model, long userId, bool newestFirst, long cursor, int limit)
    {
        var kept = Rent(connectionString, model);
        try
        {
            var command = newestFirst ? kept.NewestFirst : kept.OldestFirst;
            command.Parameters[0].Value = userId;
            command.Parameters[1].Value = cursor;
            command.Parameters[2].Value = limit;
            var tasks = new List<ConversionTask>(Math.Min(limit, 128));
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    tasks.Add(Read(reader));
                }
            }

            Return(connectionString, kept);
            kept = null;
            return tasks;
        }
        finally
        {
            kept?.Dispose();
        }
    }

    public void Dispose()
    {
        disposed = true;
        foreach (var bag in idle.Values)
        {
            while (bag.TryTake(out var kept))
            {
                kept.Dispose();
            }
        }
    }

    private static ConversionTask Read(SqliteDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        FileName = reader.GetString(1),
        OriginalFormat = reader.GetString(2),
        NewFormat = reader.GetString(3),
        Status = Enum.Parse<ConversionStatus>(reader.GetString(4), ignoreCase: true),
        Error = reader.IsDBNull(5) ? null : reader.GetString(5),
        CreatedAt = reader.GetDateTime(6),
        UpdatedAt = reader.GetDateTime(7),
        StartedAt = reader.IsDBNull(8) ? null : reader.GetDateTime(8),
        ProcessedAt = reader.IsDBNull(9) ? null : reader.GetDateTime(9),
        InputBytes = reader.GetInt64(10),
        OutputBytes = reader.IsDBNull(11) ? null : reader.GetInt64(11),
        DurationSeconds = reader.IsDBNull(12) ? null : reader.GetDouble(12),
        Options = reader.IsDBNull(13) ? null : reader.GetString(13),
        Result = reader.IsDBNull(14) ? null : reader.GetString(14),
        InputKey = reader.GetString(15),
        OutputKey = reader.IsDBNull(16) ? null : reader.GetString(16),
        Progress = reader.IsDBNull(17) ? null : reader.GetInt32(17),
    };

    private Kept Rent(string connectionString, IModel model)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return idle.TryGetValue(connectionString, out var bag) && bag.TryTake(out var kept) ? kept : Kept.Open(connectionString, model);
    }

    private void Return(string connectionString, Kept kept)
    {
        var bag = idle.GetOrAdd(connectionString, _ => []);
        if (disposed || bag.Count >= MaxIdle)
        {
            kept.Dispose();
            return;
        }

        bag.Add(kept);
    }

    /// <summary>The page statement, with the names the model gives the table and its columns.</summary>
    internal static string Sql(IModel model, bool newestFirst)
    {
        var entity = model.FindEntityType(typeof(ConversionTask)) ?? throw new InvalidOperationException("The model has no tasks.");
        string Column(string property) => Quote(entity.FindProperty(property)!.GetColumnName());
        var result = Column(nameof(ConversionTask.Result));
        // The cut of TaskListQuery's LINQ projection (IndexOf > 0 is instr > 1), spelled out for SQLite.
        var peaks = $"instr({result}, '{TaskListQuery.PeaksKey}')";
        var columns = Columns.Select(c => c == nameof(ConversionTask.Result)
            ? $"CASE WHEN {peaks} > 1 THEN substr({result}, 1, {peaks} - 1) || '}}' ELSE {result} END"
            : Column(c));
        var id = Column(nameof(ConversionTask.Id));
        return string.Create(CultureInfo.InvariantCulture, $"""
            SELECT {string.Join(", ", columns)}
            FROM {Quote(entity.GetTableName()!)}
            WHERE {Column(nameof(ConversionTask.UserId))} = $user AND {id} {(newestFirst ? "<" : ">")} $cursor
            ORDER BY {id} {(newestFirst ? "DESC" : "ASC")}
            LIMIT $limit
            """);
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>One open connection and its two compiled page statements.</summary>
    private sealed class Kept : IDisposable
    {
        private readonly SqliteConnection connection;

        private Kept(SqliteConnection connection, SqliteCommand oldestFirst, SqliteCommand newestFirst)
        {
            this.connection = connection;
            OldestFirst = oldestFirst;
            NewestFirst = newestFirst;
        }

        public SqliteCommand OldestFirst { get; }

        public SqliteCommand NewestFirst { get; }

        public static Kept Open(string connectionString, IModel model)
        {
            var connection = new SqliteConnection(connectionString);
            try
            {
                connection.Open();
                // As on EF's connections (SqliteBusyTimeout): let SQLite wait for a busy file instead of Microsoft.Data.Sqlite's 150 ms retry loop.
                using (var pragma = connection.CreateCommand())
                {
                    pragma.CommandText = $"PRAGMA busy_timeout = {Math.Max(1, connection.DefaultTimeout) * 1000}";
                    pragma.ExecuteNonQuery();
                }

                return new Kept(connection, Prepare(connection, model, newestFirst: false), Prepare(connection, model, newestFirst: true));
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            OldestFirst.Dispose();
            NewestFirst.Dispose();
            connection.Dispose();
        }

        private static SqliteCommand Prepare(SqliteConnection connection, IModel model, bool newestFirst)
        {
            var command = connection.CreateCommand();
            command.CommandText = Sql(model, newestFirst);
            command.Parameters.Add("$user", SqliteType.Integer);
            command.Parameters.Add("$cursor", SqliteType.Integer);
            command.Parameters.Add("$limit", SqliteType.Integer);
            command.Prepare();
            return command;
        }
    }
}
