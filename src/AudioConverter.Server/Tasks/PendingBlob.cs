using AudioConverter.Core.Storage;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// An uploaded file in the blob store that no task points to yet. Disposing it deletes the file unless
/// <see cref="Keep"/> was called once the task row referring to it was committed: every refusal and every error
/// path cleans up by leaving the <c>await using</c> scope.
/// </summary>
public sealed class PendingBlob(IBlobStore blobs, string key, long length, string sha256) : IAsyncDisposable
{
    private bool kept;

    public string Key { get; } = key;
    public long Length { get; } = length;

    /// <summary>Lower-case hex SHA-256 of the content, computed while it streamed in.</summary>
    public string Sha256 { get; } = sha256;

    /// <summary>The file now belongs to a task: disposing no longer deletes it.</summary>
    public void Keep() => kept = true;

    public async ValueTask DisposeAsync()
    {
        if (kept)
        {
            return;
        }

        kept = true;
        try
        {
            await blobs.DeleteAsync(Key, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // An orphan is harmless (the leftover cleaner removes it); the request's own answer matters more.
        }
    }
}
