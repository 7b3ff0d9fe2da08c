using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace AudioConverter.Server.Auth;

/// <summary>The configured signing key, or a development key generated on first run and persisted so tokens survive restarts.</summary>
public static class SigningKeyProvider
{
    public static SymmetricSecurityKey Load(AuthOptions options)
    {
        // Its length is a setting rule (AuthOptionsRules), checked at start.
        if (!string.IsNullOrWhiteSpace(options.SigningKey))
        {
            return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.SigningKey));
        }

        var path = Path.GetFullPath(options.SigningKeyPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!File.Exists(path))
        {
            Create(path);
        }

        var text = File.ReadAllText(path).Trim();
        return new SymmetricSecurityKey(Convert.FromBase64String(text));
    }

    /// <summary>
    /// Writes a new key to a temporary file that is created readable by the owner only (no window in which another
    /// user could read it), then renames it into place without replacing: the key file appears complete and 0600, and
    /// when two processes start at once the first rename wins and the other uses that key.
    /// </summary>
    private static void Create(string path)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            var file = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.WriteThrough };
            if (!OperatingSystem.IsWindows())
            {
                file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, file))
            {
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(64))));
            }

            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process generated it first; use theirs.
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
