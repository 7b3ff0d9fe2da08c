using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Sqlite (embedded default) or Postgres.</summary>
    [OneOf("Sqlite", "Postgres", "PostgreSQL")]
    public string Provider { get; set; } = "Sqlite";

    [Required]
    public string ConnectionString { get; set; } = "Data Source=data/audioconverter.db";

    /// <summary>Apply pending migrations at start-up (API role). Workers wait for the schema instead.</summary>
    public bool MigrateOnStart { get; set; } = true;

    public bool IsPostgres => OneOfAttribute.Is(Provider, "Postgres") || OneOfAttribute.Is(Provider, "PostgreSQL");
}
