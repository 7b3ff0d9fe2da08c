namespace AudioConverter.Infrastructure.Storage;

public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>LocalDisk (embedded default) or S3.</summary>
    [OneOf("LocalDisk", "S3")]
    public string Provider { get; set; } = "LocalDisk";

    /// <summary>Folder of the LocalDisk store.</summary>
    public string LocalPath { get; set; } = "data/blobs";

    public bool IsS3 => OneOfAttribute.Is(Provider, "S3");
}
