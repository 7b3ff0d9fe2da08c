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
    public int MaxSections { get; set; } = 32;

    /// <summary>Tasks one user may have waiting or converting at once; more uploads get 429 until some finish.</summary>
    [Range(1, int.MaxValue)]
    public int MaxActiveTasksPerUser { get; set; } = 1000;

    /// <summary>Bytes one user may upload in any hour (counted over the tasks created in the last hour).</summary>
    [Range(1, long.MaxValue)]
    public long MaxBytesPerUserPerHour { get; set; } = 50L * 1024 * 1024 * 1024;

    /// <summary>Bytes one user may keep stored, originals and outputs together (expired tasks no longer count); 0 = no limit.</summary>
    [Range(0, long.MaxValue)]
    public long MaxStoredBytesPerUser { get; set; } = 20L * 1024 * 1024 * 1024;
}
