using System.Net;
using Microsoft.Data.Sqlite;

namespace AudioConverter.Bench;

/// <summary>
/// Goal 4's "flat from 10 to 100,000 rows per user": one user per size, its rows inserted straight into the server's
/// SQLite file (uploading 100,000 files would take the run's whole budget), then the first page oldest-first and
/// newest-first, a full page of 10 at every size, by the listing's clients for half a level each. Rows are removed the same way afterwards.
/// </summary>
internal static class ListingScaleScenario
{
    public static async Task<ListingScaleResult?> RunAsync(BenchContext context, string? sqlitePath, CancellationToken cancellationToken)
    {
        if (sqlitePath is null)
        {
            BenchContext.Say("listing-scale: skipped, it seeds rows into the SQLite file of a server the bench started (--stack embedded)");
            return null;
        }

        int[] sizes = context.Options.Smoke ? [10, 200] : [10, 1_000, 100_000];
        var clients = context.Options.ListingClients;
        var seconds = context.Options.Smoke ? 2 : context.Options.LevelSeconds / 2;
        var rows = new List<ListingScaleRow>();
        foreach (var size in sizes)
        {
            var session = await context.Client.NewUserAsync(null, cancellationToken);
            var userId = await SeedAsync(sqlitePath, session.Username, size, cancellationToken);
            BenchContext.Say($"listing-scale: {size} rows, {clients} clients, {seconds} s per order");
            var oldest = await LoopAsync(context, $"GET /api/tasks?max=10, {size} rows", clients, seconds,
                () => context.Client.GetAsAsync(session, "api/tasks?max=10", HttpStatusCode.OK, cancellationToken));
            var newest = await LoopAsync(context, $"GET /api/tasks?max=10&order=1, {size} rows", clients, seconds,
                () => context.Client.GetAsAsync(session, "api/tasks?max=10&order=1", HttpStatusCode.OK, cancellationToken));
            await RemoveAsync(sqlitePath, userId, cancellationToken);
            rows.Add(new ListingScaleRow(size, oldest, newest));
            BenchContext.Say($"  {oldest}\n  {newest}");
        }

        var flat = Math.Min(rows[^1].OldestFirst.PerSecond, rows[^1].NewestFirst.PerSecond)
            / Math.Max(0.001, Math.Max(rows[0].OldestFirst.PerSecond, rows[0].NewestFirst.PerSecond));
        return new ListingScaleResult(clients, rows, flat);
    }

    private static async Task<AggregateRow> LoopAsync(BenchContext context, string label, int clients, double seconds, Func<Task<bool>> request)
    {
        var recorder = new Recorder(context.Clock);
        var end = context.Now + seconds;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (context.Now < end)
            {
                await recorder.TimeAsync(label, request);
            }
        })));
        return AggregateRow.From(label, recorder.Samples(label));
    }

    private static SqliteConnection Open(string path) =>
        new(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 60 }.ToString());

    private static async Task<long> SeedAsync(string path, string username, int count, CancellationToken cancellationToken)
    {
        await using var connection = Open(path);
        await connection.OpenAsync(cancellationToken);
        await using var find = connection.CreateCommand();
        find.CommandText = "SELECT Id FROM users WHERE Username = $name";
        find.Parameters.AddWithValue("$name", username);
        var userId = (long)(await find.ExecuteScalarAsync(cancellationToken))!;

        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO tasks (UserId, FileName, OriginalFormat, NewFormat, Status, CreatedAt, UpdatedAt, StartedAt, ProcessedAt,
                               InputBytes, OutputBytes, DurationSeconds, InputKey, OutputKey, Version, Attempts, PublishedAt)
            VALUES ($user, $name, 'mp3', 'wav', 'Processed', $at, $at, $at, $at, 2900000, 31000000, 180.0, $input, $output, 1, 1, $at)
            """;
        var user = insert.Parameters.Add("$user", SqliteType.Integer);
        var name = insert.Parameters.Add("$name", SqliteType.Text);
        var at = insert.Parameters.Add("$at", SqliteType.Text);
        var input = insert.Parameters.Add("$input", SqliteType.Text);
        var output = insert.Parameters.Add("$output", SqliteType.Text);
        user.Value = userId;
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < count; i++)
        {
            name.Value = $"seeded-{i}.mp3";
            at.Value = start.AddSeconds(i).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
            input.Value = $"originals/seed-{userId}-{i}.mp3";
            output.Value = $"converted/seed-{userId}-{i}.wav";
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return userId;
    }

    private static async Task RemoveAsync(string path, long userId, CancellationToken cancellationToken)
    {
        await using var connection = Open(path);
        await connection.OpenAsync(cancellationToken);
        await using var delete = connection.CreateCommand();
        delete.CommandText = "DELETE FROM tasks WHERE UserId = $user";
        delete.Parameters.AddWithValue("$user", userId);
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }
}
