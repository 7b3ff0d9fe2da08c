using System.Security.Cryptography;
using System.Text;

namespace AudioConverter.Server.Worker;

/// <summary>
/// An id for one installation, derived from what makes it one: its database and its blob store. Two checkouts, a
/// staging and a production instance on one host, get different ids and so different work folders; the workers
/// of one installation share one, where the leftover cleaner can check every lease against their common database.
/// </summary>
public static class WorkerInstance
{
    public static string Id(IConfiguration configuration)
    {
        var database = configuration["Database:ConnectionString"] ?? "";
        var storage = configuration["Storage:Provider"] ?? "LocalDisk";
        var where = storage.Equals("S3", StringComparison.OrdinalIgnoreCase)
            ? $"{configuration["Storage:S3:ServiceUrl"]}|{configuration["Storage:S3:Bucket"]}"
            : Path.GetFullPath(configuration["Storage:LocalPath"] ?? "data/blobs");
        var identity = $"{configuration["Database:Provider"]}|{Normalize(database)}|{storage}|{where}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..16];
    }

    /// <summary>The connection string without its password, and a SQLite file by its full path.</summary>
    private static string Normalize(string connectionString)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(p => !p.StartsWith("Password", StringComparison.OrdinalIgnoreCase) && !p.StartsWith("Pwd", StringComparison.OrdinalIgnoreCase))
            .Select(p => p.StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase) ? "Data Source=" + Path.GetFullPath(p["Data Source=".Length..]) : p);
        return string.Join(';', parts);
    }
}
