using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure.Storage;

public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>LocalDisk (embedded default) or S3.</summary>
    [Required]
    public string Provider { get; set; } = "LocalDisk";

    /// <summary>Folder of the LocalDisk store.</summary>
    public string LocalPath { get; set; } = "data/blobs";
}
