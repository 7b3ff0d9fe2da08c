using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AudioConverter.Cli;

/// <summary>
/// The tasks a convert run has started, by idempotency key, in state.json beside the credentials. A rerun after Ctrl-C finds
/// its tasks here (or, if the answer to an upload was lost, the server replays it for the same key) instead of uploading again.
/// </summary>
public sealed class ConvertState
{
    public const string FileName = "state.json";
    private readonly string path;
    private readonly Dictionary<string, long> tasks;
    private readonly Lock gate = new();

    private ConvertState(string path, Dictionary<string, long> tasks)
    {
        this.path = path;
        this.tasks = tasks;
    }

    public static ConvertState Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        var tasks = File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, long>>(File.ReadAllText(path)) ?? [] : [];
        return new ConvertState(path, tasks);
    }

    /// <summary>The key of one conversion: the server, the file's content hash, the format and the options.</summary>
    public static string KeyFor(string server, string contentHash, string format, IEnumerable<KeyValuePair<string, string>> fields)
    {
        var text = new StringBuilder().Append(server.TrimEnd('/')).Append('\n').Append(contentHash).Append('\n').Append(format.ToLowerInvariant());
        foreach (var (name, value) in fields.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            text.Append('\n').Append(name).Append('=').Append(value);
        }

        return "cli-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public static async Task<string> HashFileAsync(string file, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    public long? Find(string key)
    {
        lock (gate)
        {
            return tasks.TryGetValue(key, out var id) ? id : null;
        }
    }

    public void Remember(string key, long taskId)
    {
        lock (gate)
        {
            tasks[key] = taskId;
            Save();
        }
    }

    public void Forget(string key)
    {
        lock (gate)
        {
            if (tasks.Remove(key))
            {
                Save();
            }
        }
    }

    private void Save() => PrivateFile.Write(path, JsonSerializer.Serialize(tasks));
}
