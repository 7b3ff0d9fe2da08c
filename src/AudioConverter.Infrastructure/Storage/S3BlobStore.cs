using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using AudioConverter.Core.Storage;

namespace AudioConverter.Infrastructure.Storage;

/// <summary>
/// Blobs in an S3-compatible bucket. Bodies are sent unsigned-chunk-free (UseChunkEncoding=false) because some
/// servers (s3rver) store aws-chunked framing verbatim; streams longer than one part go up as a multipart upload.
/// </summary>
public sealed class S3BlobStore : IBlobStore, IBackendSetup, IDisposable
{
    private readonly AmazonS3Client client;
    private readonly S3Options options;
    private readonly int partSize;
    private readonly int listPageSize;

    /// <param name="listPageSize">Keys per listing page: S3's own maximum; a test sets a small one to make listings page.</param>
    public S3BlobStore(S3Options options, int listPageSize = 1000)
    {
        this.options = options;
        this.listPageSize = listPageSize;
        partSize = options.PartSizeMegabytes * 1024 * 1024;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 2,
            Timeout = TimeSpan.FromSeconds(100),
        };
        if (options.ServiceUrl.Length > 0)
        {
            config.ServiceURL = options.ServiceUrl;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        client = options.AccessKey.Length > 0
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config);

        // The SDK percent-encodes the slashes of CopyObject's source ("bucket%2Fkey"); S3 takes them either way, as
        // botocore and the AWS CLI send them ("/bucket/key"), but s3rver only decodes them that way and answers
        // NoSuchBucket otherwise. Changed after marshalling, before signing.
        client.BeforeRequestEvent += (_, e) =>
        {
            if (e is WebServiceRequestEventArgs { Headers: { } headers } && headers.TryGetValue(CopySourceHeader, out var source))
            {
                headers[CopySourceHeader] = source.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
            }
        };
    }

    private const string CopySourceHeader = "x-amz-copy-source";

    public string SettingName => "Storage:S3 (ServiceUrl, Bucket, AccessKey)";

    public async Task<long> PutAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        ValidateKey(key);
        try
        {
            return await UploadAsync(key, content, cancellationToken);
        }
        catch (ContentReadFailure e)
        {
            // The caller's stream failed (a client's body, a local file): its own exception, unchanged, not the bucket's.
            ExceptionDispatchInfo.Capture(e.InnerException!).Throw();
            throw; // not reached
        }
        catch (Exception e) when (IsS3Failure(e))
        {
            throw Unreachable(e);
        }
    }

    /// <summary>Sends the file, hashing it as its parts are read: one read for both.</summary>
    public async Task<StoredFile> PutFileAsync(string key, string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using var hashing = new HashingReadStream(file);
        var bytes = await PutAsync(key, hashing, cancellationToken);
        return new StoredFile(bytes, hashing.Sha256());
    }

    /// <summary>A download into the work folder, named after the key's extension (ffmpeg and the inspection read it).</summary>
    public async Task<string?> LocalFileAsync(string key, string workFolder, CancellationToken cancellationToken)
    {
        var stream = await OpenReadAsync(key, cancellationToken);
        if (stream is null)
        {
            return null;
        }

        var path = Path.Combine(workFolder, "input" + Path.GetExtension(key));
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            await using (stream)
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                int read;
                while ((read = await ReadObjectAsync(stream, buffer, cancellationToken)) > 0)
                {
                    // A failed write (a full disk) stays the work folder's IOException.
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return path;
    }

    /// <summary>The object's body broke off (the stream reports it as streams do, an IOException): the bucket's failure.</summary>
    private async Task<int> ReadObjectAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception e) when (IsS3Failure(e))
        {
            throw Unreachable(e);
        }
    }

    private async Task<long> UploadAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(partSize);
        try
        {
            var first = await ReadPartAsync(content, buffer, partSize, cancellationToken);
            if (first < partSize)
            {
                using var body = new MemoryStream(buffer, 0, first, writable: false);
                await client.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = options.Bucket,
                    Key = key,
                    InputStream = body,
                    AutoCloseStream = false,
                    UseChunkEncoding = false,
                    ContentType = "application/octet-stream",
                }, cancellationToken);
                return first;
            }

            return await PutMultipartAsync(key, content, buffer, first, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<long> PutMultipartAsync(string key, Stream content, byte[] buffer, int firstLength, CancellationToken cancellationToken)
    {
        var upload = await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = options.Bucket,
            Key = key,
            ContentType = "application/octet-stream",
        }, cancellationToken);
        var spare = ArrayPool<byte>.Shared.Rent(partSize);
        try
        {
            // Double-buffered: the next part is received from the client into one buffer while the previous one is
            // being sent from the other, so the upload runs at the slower of the two rates rather than their sum.
            var parts = new List<PartETag>();
            long total = 0;
            var (sending, receiving) = (buffer, spare);
            var length = firstLength;
            while (length > 0)
            {
                var sent = UploadPartAsync(key, upload.UploadId, parts.Count + 1, sending, length, cancellationToken);
                int next;
                try
                {
                    next = length < partSize ? 0 : await ReadPartAsync(content, receiving, partSize, cancellationToken);
                }
                catch
                {
                    // The part in flight still reads its buffer: let it finish before the buffers go back to the pool.
                    await Task.WhenAny(sent);
                    throw;
                }

                parts.Add(new PartETag(parts.Count + 1, await sent));
                total += length;
                length = next;
                (sending, receiving) = (receiving, sending);
            }

            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = options.Bucket,
                Key = key,
                UploadId = upload.UploadId,
                PartETags = parts,
            }, cancellationToken);
            return total;
        }
        catch
        {
            await AbortQuietlyAsync(key, upload.UploadId);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(spare);
        }
    }

    /// <summary>Up to one part of the caller's stream; what it throws is marked as the content's (see PutAsync).</summary>
    private static async Task<int> ReadPartAsync(Stream content, byte[] buffer, int partSize, CancellationToken cancellationToken)
    {
        try
        {
            return await content.ReadAtLeastAsync(buffer.AsMemory(0, partSize), partSize, throwOnEndOfStream: false, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ContentReadFailure(e);
        }
    }

    /// <summary>An unfinished upload keeps its parts (and costs storage) until aborted.</summary>
    private async Task AbortQuietlyAsync(string key, string uploadId)
    {
        try
        {
            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = options.Bucket, Key = key, UploadId = uploadId }, CancellationToken.None);
        }
        catch (AmazonServiceException)
        {
            // The bucket's lifecycle rule for incomplete uploads is the fallback.
        }
    }

    private async Task<string> UploadPartAsync(string key, string uploadId, int partNumber, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(buffer, 0, length, writable: false);
        var part = await client.UploadPartAsync(new UploadPartRequest
        {
            BucketName = options.Bucket,
            Key = key,
            UploadId = uploadId,
            PartNumber = partNumber,
            InputStream = body,
            PartSize = length,
            UseChunkEncoding = false,
        }, cancellationToken);
        return part.ETag;
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        ValidateKey(key);
        try
        {
            // No HEAD first: the first ranged GET answers whether the object exists, its length and its ETag.
            return await S3ReadStream.OpenAsync(client, options.Bucket, key, cancellationToken);
        }
        catch (Exception e) when (IsS3Failure(e))
        {
            throw Unreachable(e);
        }
    }

    public async Task<long?> CopyAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken)
    {
        ValidateKey(sourceKey);
        ValidateKey(destinationKey);
        try
        {
            // A server-side copy (CopyObject, up to 5 GB; Media:MaxOutputBytes keeps outputs at 4 GB by default).
            await client.CopyObjectAsync(new CopyObjectRequest
            {
                SourceBucket = options.Bucket,
                SourceKey = sourceKey,
                DestinationBucket = options.Bucket,
                DestinationKey = destinationKey,
                ContentType = "application/octet-stream",
                MetadataDirective = S3MetadataDirective.REPLACE,
            }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode == "NoSuchKey")
        {
            return null;
        }
        catch (Exception e) when (IsS3Failure(e))
        {
            throw Unreachable(e);
        }

        try
        {
            // CopyObject's answer has no length; one HEAD of the new object gives it.
            var copied = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = options.Bucket, Key = destinationKey }, cancellationToken);
            return copied.ContentLength;
        }
        catch (Exception e) when (IsS3Failure(e))
        {
            throw Unreachable(e);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        ValidateKey(key);
        try
        {
            await client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = options.Bucket, Key = key }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone.
        }
        catch (Exception e) when (IsS3Failure(e))
        {
            throw Unreachable(e);
        }
    }

    /// <summary>
    /// Pages with the v1 listing and a Marker (the last key of the page before), which every S3 server answers. Not v2:
    /// s3rver 3.7.1 builds v2's continuation token with DES, which the OpenSSL 3 of Node 17+ no longer offers, so it
    /// answers every truncated v2 listing with 500 InternalError and a scan of more than one page never ended.
    /// </summary>
    public async IAsyncEnumerable<StoredBlob> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsRequest { BucketName = options.Bucket, Prefix = prefix, MaxKeys = listPageSize };
        while (true)
        {
            var page = await ListPageAsync(request, cancellationToken);
            var items = page.S3Objects ?? [];
            foreach (var item in items)
            {
                yield return new StoredBlob(item.Key, item.LastModified?.ToUniversalTime() ?? DateTime.MaxValue);
            }

            if (page.IsTruncated != true || items.Count == 0)
            {
                yield break;
            }

            // NextMarker comes only with a delimiter; without one the next page starts after the last key.
            request.Marker = string.IsNullOrEmpty(page.NextMarker) ? items[^1].Key : page.NextMarker;
        }
    }

    private async Task<ListObjectsResponse> ListPageAsync(ListObjectsRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await client.ListObjectsAsync(request, cancellationToken);
        }
        catch (Exception e) when (IsS3Failure(e))
        {
            throw Unreachable(e);
        }
    }

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            // One key at most: answers whether the bucket exists and the credentials may list it. The v1 listing:
            // s3rver answers a truncated v2 listing with a 500 (see ListAsync), so readiness and start-up failed once the bucket held two objects.
            await client.ListObjectsAsync(new ListObjectsRequest { BucketName = options.Bucket, MaxKeys = 1 }, cancellationToken);
            return true;
        }
        catch (Exception e) when (IsS3Failure(e) || e is TimeoutException)
        {
            return false;
        }
    }

    public async Task SetUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await client.ListObjectsAsync(new ListObjectsRequest { BucketName = options.Bucket, MaxKeys = 1 }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && options.CreateBucket)
        {
            try
            {
                await client.PutBucketAsync(new PutBucketRequest { BucketName = options.Bucket, UseClientRegion = true }, cancellationToken);
            }
            catch (AmazonS3Exception created) when (created.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
            {
                // Another process created it first.
            }
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new BackendUnreachableException($"Storage:S3:Bucket '{options.Bucket}' does not exist; create it or set Storage:S3:CreateBucket=true.", e);
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            throw new BackendUnreachableException($"Storage:S3:AccessKey/SecretKey were refused for bucket '{options.Bucket}': {e.Message}", e);
        }
    }

    public void Dispose() => client.Dispose();

    /// <summary>
    /// The SDK's own failures (a refused or unreachable server, an error answer, a connection reset under a request,
    /// which the SDK lets out as the socket's raw IOException or SocketException): callers see only the port's
    /// exception. Only SDK calls are filtered with it; the content a caller hands in is read apart (ReadPartAsync).
    /// </summary>
    internal static bool IsS3Failure(Exception e) =>
        e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException;

    private BackendUnreachableException Unreachable(Exception e) =>
        new($"Storage:S3: the bucket '{options.Bucket}' did not answer as expected: {e.Message.ReplaceLineEndings(" ").Trim()}", e);

    /// <summary>Marks what the caller's content stream threw, so PutAsync passes it on unchanged.</summary>
    private sealed class ContentReadFailure(Exception inner) : Exception(inner.Message, inner);

    private static void ValidateKey(string key)
    {
        if (string.IsNullOrWhiteSpace(key) || key.StartsWith('/') || key.Contains("..", StringComparison.Ordinal) || key.Contains('\\') || key.Contains('\0'))
        {
            throw new ArgumentException($"Invalid blob key '{key}'.", nameof(key));
        }
    }
}
