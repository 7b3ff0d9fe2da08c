using AudioConverter.Server.Auth;

namespace AudioConverter.Tests.Unit;

[Trait("Layer", "Unit")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SigningKeyProviderTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "ac-keys-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task TheKeyFileIsNeverSeenIncompleteOrReadableByOthers()
    {
        // A watcher reads the path as fast as it can while keys are generated: the old code created the file with the
        // process umask (0644), empty, and only then narrowed its mode and wrote the key.
        Directory.CreateDirectory(folder);
        var paths = Enumerable.Range(0, 300).Select(i => Path.Combine(folder, $"key-{i}")).ToArray();
        var bad = new List<string>();
        using var done = new CancellationTokenSource();
        var watcher = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                foreach (var path in paths)
                {
                    try
                    {
                        var mode = File.GetUnixFileMode(path);
                        var length = new FileInfo(path).Length;
                        if (mode != (UnixFileMode.UserRead | UnixFileMode.UserWrite) || length == 0)
                        {
                            lock (bad)
                            {
                                bad.Add($"{path}: {mode}, {length} bytes");
                            }
                        }
                    }
                    catch (FileNotFoundException)
                    {
                        // Not there yet.
                    }
                }
            }
        });

        foreach (var path in paths)
        {
            SigningKeyProvider.Load(new AuthOptions { SigningKeyPath = path });
        }

        await done.CancelAsync();
        await watcher;
        Assert.Empty(bad);
        Assert.All(paths, path => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path)));
        Assert.Equal(paths.Length, Directory.GetFiles(folder).Length);
    }

    [Fact]
    public async Task ProcessesStartingAtOnceAllUseTheSameKey()
    {
        var path = Path.Combine(folder, "data", "jwt.key");
        var keys = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Convert.ToBase64String(SigningKeyProvider.Load(new AuthOptions { SigningKeyPath = path }).Key))));
        Assert.Single(keys.Distinct());
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }
}
