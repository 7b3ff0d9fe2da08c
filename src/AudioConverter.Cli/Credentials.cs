using System.Text.Json;

namespace AudioConverter.Cli;

/// <summary>What login stores: the server and a token or an API key, in credentials.json (mode 0600) in the user's config folder.</summary>
public sealed record Credentials(string Server, string? Token, string? ApiKey, string? Username, DateTimeOffset? ExpiresAt)
{
    public const string FileName = "credentials.json";

    public string Bearer => ApiKey ?? Token ?? "";

    /// <summary>$AUDIOCONVERTER_CONFIG_DIR, else $XDG_CONFIG_HOME/audioconverter, else ~/.config/audioconverter.</summary>
    public static string ConfigFolder(IReadOnlyDictionary<string, string?> environment)
    {
        if (environment.GetValueOrDefault("AUDIOCONVERTER_CONFIG_DIR") is { Length: > 0 } explicitFolder)
        {
            return explicitFolder;
        }

        var xdg = environment.GetValueOrDefault("XDG_CONFIG_HOME");
        var root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config") : xdg;
        return Path.Combine(root, "audioconverter");
    }

    public static Credentials? Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<Credentials>(File.ReadAllText(path), JsonSerializerOptions.Web) : null;
    }

    public void Save(string folder) => PrivateFile.Write(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, JsonSerializerOptions.Web));
}

/// <summary>Files only the user may read: created with mode 0600 (folder 0700) before any secret is written.</summary>
public static class PrivateFile
{
    public static void Write(string path, string text)
    {
        var folder = Path.GetDirectoryName(path)!;
        if (!OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        else
        {
            Directory.CreateDirectory(folder);
        }

        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
