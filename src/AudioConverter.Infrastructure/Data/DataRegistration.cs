using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AudioConverter.Infrastructure.Data;

/// <summary>The database adapters register themselves here; Database:Provider picks one.</summary>
public static class DataRegistration
{
    /// <summary>The chosen database, a task's transitions (on the database's clock) and the one publisher of wake-up messages.</summary>
    public static IServiceCollection AddDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var database = services.ReadSettings(configuration, DatabaseOptions.Section, new DatabaseOptionsRules());
        if (database.IsPostgres)
        {
            services.AddPostgresDatabase(database);
        }
        else
        {
            services.AddSqliteDatabase(database);
        }

        services.AddScoped(provider => new TaskTransitions(provider.GetRequiredService<AppDbContext>(), provider.GetRequiredService<TimeProvider>()));
        services.AddScoped<TaskPublisher>();
        return services;
    }

    public static IServiceCollection AddSqliteDatabase(this IServiceCollection services, DatabaseOptions database)
    {
        var connectionString = SqliteConnectionStrings.Prepare(database.ConnectionString);
        return services.AddDbContextPool<AppDbContext, SqliteAppDbContext>(o => o.UseSqlite(connectionString));
    }

    public static IServiceCollection AddPostgresDatabase(this IServiceCollection services, DatabaseOptions database)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString).ConnectionString;
        return services.AddDbContextPool<AppDbContext, PostgresAppDbContext>(o => o.UseNpgsql(connectionString));
    }
}
