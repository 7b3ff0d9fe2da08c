using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Server.Tasks;

public sealed class UploadOptions
{
    public const string Section = "Uploads";

    /// <summary>Largest accepted audio file, in bytes.</summary>
    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Most multipart sections one upload may have.</summary>
    [Range(1, 100)]
    public int MaxSections { get; set; } = 8;
}
