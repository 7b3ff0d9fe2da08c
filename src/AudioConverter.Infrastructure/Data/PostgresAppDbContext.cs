using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Infrastructure.Data;

/// <summary>The distributed database; its migrations live in Data/Migrations/Postgres. Times are timestamptz in UTC.</summary>
public sealed class PostgresAppDbContext(DbContextOptions<PostgresAppDbContext> options) : AppDbContext(options);
