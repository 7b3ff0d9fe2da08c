using System.Security.Cryptography;
using System.Text;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Storage;

namespace AudioConverter.Server.Worker;

/// <summary>
/// An id for one installation, derived from what makes it one: its database and its blob store. Two checkouts, a
/// staging and a production instance on one host, get different ids and so different work folders; the workers
/// of one installation share one, where the leftover cleaner can check every lease against their common database.
/// </summary>
public static class WorkerInstance
{
    /// <summary>The id from the bound settings, as the host computes it.</summary>
    public static string Id(DatabaseOptions database, StorageOptions storage, S3Options s3)
    {
        var where = storage.IsS3 ? $"{s3.ServiceUrl}|{s3.Bucket}" : Path.GetFullPath(storage.LocalPath);
        var identity = $"{database.Provider}|{Normalize(database.ConnectionString)}|{storage.Provider}|{where}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..16];
    }

    /// <summary>The id of the installation a configuration describes, for tools and tests that have no host.</summary>
    public static string Id(IConfiguration configuration) => Id(
        configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions(),
        configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions(),
        configuration.GetSection(S3Options.Section).Get<S3Options>() ?? new S3Options());

    /// <summary>The connection string without its password, and a SQLite file by its full path.</summary>
    private static string Normalize(string connectionString)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(p => !p.StartsWith("Password", StringComparison.OrdinalIgnoreCase) && !p.StartsWith("Pwd", StringComparison.OrdinalIgnoreCase))
            .Select(p => p.StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase) ? "Data Source=" + Path.GetFullPath(p["Data Source=".Length..]) : p);
        return string.Join(';', parts);
    }
}
