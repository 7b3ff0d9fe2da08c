namespace AudioConverter.Tests.Contracts;

/// <summary>The PostgreSQL provider against a real server, one database per test.</summary>
public sealed class PostgresDatabaseTests : DatabaseContract
{
    private readonly string database = "ac_" + Guid.NewGuid().ToString("N");

    protected override async Task<(string Provider, string ConnectionString)> CreateDatabaseAsync() =>
        ("Postgres", await ExternalServices.CreatePostgresDatabaseAsync(database));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await ExternalServices.DropPostgresDatabaseAsync(database);
    }
}
