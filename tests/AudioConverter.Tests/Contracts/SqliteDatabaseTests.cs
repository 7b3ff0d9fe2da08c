namespace AudioConverter.Tests.Contracts;

public sealed class SqliteDatabaseTests : DatabaseContract
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "ac-tests", "sqlite-" + Guid.NewGuid().ToString("N"));

    protected override Task<(string Provider, string ConnectionString)> CreateDatabaseAsync() =>
        Task.FromResult(("Sqlite", $"Data Source={Path.Combine(folder, "app.db")}"));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
