namespace AudioConverter.Core.Storage;

/// <summary>
/// The one place that knows how keys are laid out in the blob store: uploads under <c>originals/</c>, outputs
/// under <c>converted/</c> with the task's version and fencing token in the name.
/// </summary>
public static class BlobKeys
{
    public const string Originals = "originals/";

    public const string Converted = "converted/";

    /// <summary>Every prefix the service writes under, for the scans that look for leftovers.</summary>
    public static IReadOnlyList<string> Prefixes { get; } = [Originals, Converted];

    /// <summary>A fresh key for an upload, keeping the (sanitised) extension so tools that sniff by name still work.</summary>
    public static string NewOriginal(string extension) => $"{Originals}{Guid.NewGuid():N}{(extension.Length > 0 ? "." + extension : "")}";

    /// <summary>The output of one attempt: a fenced name, so a stale worker can never overwrite a newer output.</summary>
    public static string Output(long taskId, int version, long fence, string extension) => $"{Converted}{taskId}-v{version}-f{fence}.{extension}";
}
