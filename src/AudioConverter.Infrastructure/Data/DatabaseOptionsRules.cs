using Microsoft.Extensions.Options;
using Npgsql;

namespace AudioConverter.Infrastructure.Data;

/// <summary>A PostgreSQL connection string must parse and name its server.</summary>
public sealed class DatabaseOptionsRules : IValidateOptions<DatabaseOptions>
{
    private const string Example = "use e.g. Host=127.0.0.1;Port=5432;Database=audioconverter;Username=app;Password=...";

    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        if (!options.IsPostgres || string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Success;
        }

        try
        {
            return string.IsNullOrWhiteSpace(new NpgsqlConnectionStringBuilder(options.ConnectionString).Host)
                ? ValidateOptionsResult.Fail($"Database:ConnectionString names no Host; {Example}")
                : ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail($"Database:ConnectionString is not a valid PostgreSQL connection string ({e.Message}); {Example}");
        }
    }
}
