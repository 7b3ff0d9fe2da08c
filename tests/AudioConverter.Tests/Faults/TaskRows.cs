using Microsoft.Data.Sqlite;

namespace AudioConverter.Tests.Faults;

/// <summary>Reads task rows straight from a server's SQLite file: what the API does not show (attempts, leases).</summary>
public static class TaskRows
{
    public sealed record Row(long Id, string Status, int Attempts, string? LeaseOwner, string? OutputKey, string? Error);

    public static async Task<long> CountAsync(string databasePath)
    {
        await using var connection = await OpenAsync(databasePath);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM tasks";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public static async Task<Row> ReadAsync(string databasePath, long id)
    {
        await using var connection = await OpenAsync(databasePath);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Id, Status, Attempts, LeaseOwner, OutputKey, Error FROM tasks WHERE Id = $id";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"task {id} has no row");
        return new Row(
            reader.GetInt64(0),
            reader.GetString(1),
            reader.GetInt32(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5));
    }

    private static async Task<SqliteConnection> OpenAsync(string databasePath)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 30 }.ToString());
        await connection.OpenAsync();
        return connection;
    }
}
