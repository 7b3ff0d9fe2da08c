using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AudioConverter.Infrastructure.Data;

/// <summary>
/// Lets SQLite itself wait for a busy database (<c>PRAGMA busy_timeout</c>, the connection's DefaultTimeout) on every
/// connection EF opens. Without it, Microsoft.Data.Sqlite retries a busy statement in its own loop, which sleeps
/// 150 ms between tries: a claim whose BEGIN met the upload's short "published" update waited 150 ms for a lock held
/// for one or two. SQLite's busy handler retries after 1, 2, 5, 10 ... ms, so the wait is about as long as the lock.
/// </summary>
public sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    public static readonly SqliteBusyTimeout Instance = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        if (connection is not SqliteConnection sqlite)
        {
            return;
        }

        using var command = sqlite.CreateCommand();
        command.CommandText = $"PRAGMA busy_timeout = {Math.Max(1, sqlite.DefaultTimeout) * 1000}";
        command.ExecuteNonQuery();
    }
}
