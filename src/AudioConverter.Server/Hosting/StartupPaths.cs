using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Storage;
using Microsoft.Data.Sqlite;

namespace AudioConverter.Server.Hosting;

/// <summary>
/// Where the program finds its settings and keeps its data, whatever folder it is started from. The content root
/// is the working folder when appsettings.json is there (dotnet run, the tests), else the program's own folder; an
/// explicit --contentRoot or ASPNETCORE_CONTENTROOT wins. Relative data paths (the SQLite file, the blob folder,
/// the signing key, the temp folder) resolve against DataRoot, which defaults to the content root, never against
/// the working folder: started from elsewhere, the program finds its database instead of making an empty one.
/// </summary>
public static class StartupPaths
{
    public const string DataRootKey = "DataRoot";

    /// <summary>The content root to use, or null to leave the host's choice (explicitly configured, or the working folder).</summary>
    public static string? ContentRoot(string[] args)
    {
        var explicitly = args.Any(a => a.TrimStart('-', '/').StartsWith("contentRoot", StringComparison.OrdinalIgnoreCase))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"));
        if (explicitly || File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json")))
        {
            return null;
        }

        return AppContext.BaseDirectory;
    }

    /// <summary>Rewrites the relative data paths of <paramref name="configuration"/> to absolute ones under the data root.</summary>
    public static void Resolve(ConfigurationManager configuration, string contentRoot)
    {
        var root = configuration[DataRootKey] is { Length: > 0 } dataRoot ? Path.GetFullPath(dataRoot, contentRoot) : contentRoot;
        var resolved = new Dictionary<string, string?>();
        // The defaults come from the options classes, so a relative default resolves like a configured path.
        Absolute("Storage:LocalPath", new StorageOptions().LocalPath);
        Absolute("Auth:SigningKeyPath", new Auth.AuthOptions().SigningKeyPath);
        if (configuration["Worker:TempPath"] is { Length: > 0 })
        {
            Absolute("Worker:TempPath", "");
        }

        var database = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        if (!database.IsPostgres && TryResolveSqlite(database.ConnectionString, root) is { } absolute)
        {
            resolved["Database:ConnectionString"] = absolute;
        }

        if (resolved.Count > 0)
        {
            configuration.AddInMemoryCollection(resolved);
        }

        void Absolute(string key, string fallback)
        {
            var value = configuration[key] ?? fallback;
            if (value.Length > 0 && !Path.IsPathRooted(value))
            {
                resolved[key] = Path.GetFullPath(value, root);
            }
        }
    }

    private static string? TryResolveSqlite(string connectionString, string root)
    {
        try
        {
            var builder = new SqliteConnectionStringBuilder(connectionString);
            if (builder.DataSource is not { Length: > 0 } file || file == ":memory:" || builder.Mode == SqliteOpenMode.Memory
                || file.StartsWith("file:", StringComparison.OrdinalIgnoreCase) || Path.IsPathRooted(file))
            {
                return null;
            }

            builder.DataSource = Path.GetFullPath(file, root);
            return builder.ToString();
        }
        catch (ArgumentException)
        {
            // Not a valid connection string: the database set-up names the setting.
            return null;
        }
    }
}
