using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace AudioConverter.Server.Auth;

/// <summary>The configured signing key, or a development key generated on first run and persisted so tokens survive restarts.</summary>
public static class SigningKeyProvider
{
    public static SymmetricSecurityKey Load(AuthOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.SigningKey))
        {
            if (options.SigningKey.Length < 32)
            {
                throw new Infrastructure.StartupConfigurationException("Auth:SigningKey must be at least 32 characters long.");
            }

            return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.SigningKey));
        }

        var path = Path.GetFullPath(options.SigningKeyPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            var generated = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            file.Write(Encoding.ASCII.GetBytes(generated));
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process generated it first; use theirs.
        }

        var text = File.ReadAllText(path).Trim();
        for (var i = 0; text.Length == 0 && i < 50; i++)
        {
            Thread.Sleep(20);
            text = File.ReadAllText(path).Trim();
        }

        return new SymmetricSecurityKey(Convert.FromBase64String(text));
    }
}
