using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Infrastructure.Data;

/// <summary>The embedded database; its migrations live in Data/Migrations/Sqlite.</summary>
public sealed class SqliteAppDbContext(DbContextOptions<SqliteAppDbContext> options) : AppDbContext(options);
