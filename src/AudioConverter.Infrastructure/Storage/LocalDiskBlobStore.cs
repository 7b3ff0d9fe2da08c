using System.Security.Cryptography;
using AudioConverter.Core.Storage;

namespace AudioConverter.Infrastructure.Storage;

/// <summary>Blobs as files in one folder. Writes go to a temporary file first and are renamed into place.</summary>
public sealed class LocalDiskBlobStore : IBlobStore
{
    private const int BufferSize = 81920;
    private readonly string root;

    public LocalDiskBlobStore(string root)
    {
        this.root = Path.GetFullPath(root);
        Directory.CreateDirectory(this.root);
    }

    public async Task<long> PutAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        var path = PathFor(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.partial";
        try
        {
            long length;
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, BufferSize, cancellationToken);
                length = file.Length;
            }

            File.Move(temporary, path, overwrite: true);
            return length;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathFor(key);
        try
        {
            Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public async Task<long?> CopyAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken)
    {
        var sourcePath = PathFor(sourceKey);
        var destination = PathFor(destinationKey);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);

        // A hard link where the filesystem has them: no bytes written, however large the file. Under a temporary
        // name first, then renamed over the key, as every write here.
        var temporary = $"{destination}.{Guid.NewGuid():N}.partial";
        if (HardLink.TryCreate(sourcePath, temporary, out var missing))
        {
            File.Move(temporary, destination, overwrite: true);
            return new FileInfo(destination).Length;
        }

        if (missing)
        {
            return null;
        }

        // Otherwise through streams, not File.Copy: that keeps the source's modification time, and the orphan scan
        // would take a fresh copy, not yet referenced by its task, for an old leftover.
        FileStream source;
        try
        {
            source = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        await using (source)
        {
            return await PutAsync(destinationKey, source, cancellationToken);
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        File.Delete(PathFor(key));
        return Task.CompletedTask;
    }

    public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(Directory.Exists(root));

    /// <summary>
    /// Moves the file in: a rename on the same filesystem, no second write of a possibly large output. The hash is the
    /// file's one read (just written, so from the page cache).
    /// </summary>
    public async Task<StoredFile> PutFileAsync(string key, string path, CancellationToken cancellationToken)
    {
        var target = PathFor(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        string sha256;
        long length;
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            length = file.Length;
            sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
        }

        File.Move(path, target, overwrite: true);
        return new StoredFile(length, sha256);
    }

    /// <summary>The store's own file: no copy needed.</summary>
    public Task<string?> LocalFileAsync(string key, string workFolder, CancellationToken cancellationToken)
    {
        var path = PathFor(key);
        return Task.FromResult(File.Exists(path) ? path : null);
    }

    /// <summary>
    /// The files under a key prefix with their last write time, for finding leftovers. Keys ending in
    /// <c>.partial</c> are writes in progress, or abandoned by a process that died while writing.
    /// </summary>
    public IEnumerable<(string Key, DateTime LastWriteUtc)> List(string prefix)
    {
        var folder = Path.Combine(root, prefix);
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            yield return (Path.GetRelativePath(root, file.FullName).Replace(Path.DirectorySeparatorChar, '/'), file.LastWriteTimeUtc);
        }
    }

    public async IAsyncEnumerable<StoredBlob> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Keys are folders then a name: list the folder the prefix names and keep the keys that start with it.
        var slash = prefix.LastIndexOf('/');
        foreach (var (key, lastWrite) in List(slash >= 0 ? prefix[..slash] : ""))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return new StoredBlob(key, lastWrite);
            }
        }

        await Task.CompletedTask;
    }

    private string PathFor(string key)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Contains("..", StringComparison.Ordinal) || key.Contains('\\') || key.StartsWith('/') || key.Contains('\0'))
        {
            throw new ArgumentException($"Invalid blob key '{key}'.", nameof(key));
        }

        var path = Path.GetFullPath(Path.Combine(root, key));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid blob key '{key}'.", nameof(key));
        }

        return path;
    }
}
