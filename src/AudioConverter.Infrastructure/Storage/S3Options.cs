using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure.Storage;

/// <summary>Storage:S3 — any S3-compatible service: AWS S3, MinIO, Google Cloud Storage's interoperable endpoint.</summary>
public sealed class S3Options
{
    public const string Section = "Storage:S3";

    /// <summary>Endpoint URL, e.g. http://127.0.0.1:9000 or https://storage.googleapis.com; empty means AWS for the region.</summary>
    public string ServiceUrl { get; set; } = "";

    [Required(ErrorMessage = "{0} is required (us-east-1 suits MinIO and s3rver; 'auto' or 'us' suits GCS).")]
    public string Region { get; set; } = "us-east-1";

    [Required(ErrorMessage = "{0} is required when Storage:Provider is S3.")]
    public string Bucket { get; set; } = "";

    /// <summary>http://host/bucket/key rather than http://bucket.host/key; needed by MinIO and most self-hosted servers.</summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>Access key id (an HMAC key on GCS); empty uses the AWS default credential chain.</summary>
    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    /// <summary>Create the bucket at start-up when it does not exist.</summary>
    public bool CreateBucket { get; set; }

    /// <summary>Size of each part of a multipart upload, and the largest object sent in one PUT (5 MiB at least).</summary>
    [Range(5, 512)]
    public int PartSizeMegabytes { get; set; } = 8;
}
