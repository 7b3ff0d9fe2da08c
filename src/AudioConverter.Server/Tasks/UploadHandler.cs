using System.Text;
using AudioConverter.Core.Conversion;
using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// Streams a multipart upload straight to the blob store, checking its first bytes on the way,
/// and inserts the task row only once the file is stored.
/// </summary>
public static class UploadHandler
{
    private static readonly string[] FileFields = ["fileName", "file", "audio"];
    private const int MaxTextFieldBytes = 16 * 1024;

    public static async Task<Results<Created<TaskResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        HttpContext context, AppDbContext db, IBlobStore blobs, TaskTransitions transitions, TaskPublisher publisher, IOptions<UploadOptions> options, TimeProvider clock,
        ILogger<UploadOptions> logger, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var request = context.Request;

        // Multipart framing adds a little; anything beyond that is refused before a byte of the body is read.
        var bodyLimit = limits.MaxFileBytes + 64 * 1024;
        if (request.ContentLength > bodyLimit)
        {
            return Problems.TooLarge(limits.MaxFileBytes);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = bodyLimit;
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Validation("fileName", "Send the file as multipart/form-data with the parts 'fileName' (the audio file) and 'newFormat'.");
        }

        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 200)
        {
            return Problems.Validation("fileName", "The multipart body has no valid boundary.");
        }

        var userId = TokenService.UserId(context.User);
        if (await UploadQuota.CheckAsync(db, userId, limits, clock.GetUtcNow().UtcDateTime, cancellationToken) is { } overQuota)
        {
            return Problems.TooManyRequests(context.Response, overQuota.Detail, overQuota.RetryAfter);
        }

        var reader = new MultipartReader(boundary, request.Body) { HeadersCountLimit = 16, HeadersLengthLimit = 8 * 1024 };
        string? newFormat = null, displayName = null, clientFileName = null, storedKey = null, refusal = null, presetName = null;
        long inputBytes = 0;
        var sections = 0;
        var optionFields = new List<KeyValuePair<string, string?>>();
        try
        {
            MultipartSection? section;
            while ((section = await NextSectionAsync(reader, cancellationToken)) is not null)
            {
                if (++sections > limits.MaxSections)
                {
                    return await RefuseAsync(blobs, storedKey, Problems.Validation("body", $"The upload has more than {limits.MaxSections} parts."));
                }

                var disposition = section.GetContentDispositionHeader();
                if (disposition is null || !disposition.IsFormDisposition() && !disposition.IsFileDisposition())
                {
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (disposition.IsFileDisposition() && FileFields.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    if (storedKey is not null)
                    {
                        return await RefuseAsync(blobs, storedKey, Problems.Validation("fileName", "Send one file per upload."));
                    }

                    clientFileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
                    var extension = DisplayName.Extension(DisplayName.Sanitize(clientFileName, "bin"));
                    var stored = await StoreAsync(section.Body, blobs, extension, limits.MaxFileBytes, cancellationToken);
                    if (stored.Refusal is not null)
                    {
                        refusal = stored.Refusal;
                        continue;
                    }

                    storedKey = stored.Key;
                    inputBytes = stored.Length;
                }
                else if (name.Equals("newFormat", StringComparison.OrdinalIgnoreCase))
                {
                    newFormat = await ReadTextAsync(section.Body, cancellationToken);
                }
                else if (name.Equals(Presets.PresetSelection.Field, StringComparison.OrdinalIgnoreCase))
                {
                    presetName = await ReadTextAsync(section.Body, cancellationToken);
                }
                else if (name.Equals("filename", StringComparison.Ordinal))
                {
                    displayName = await ReadTextAsync(section.Body, cancellationToken);
                }
                else if (!disposition.IsFileDisposition() && !FileFields.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    optionFields.Add(KeyValuePair.Create(name, (string?)await ReadTextAsync(section.Body, cancellationToken)));
                }
            }
        }
        catch (FileTooLargeException)
        {
            return Problems.TooLarge(limits.MaxFileBytes);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return await RefuseAsync(blobs, storedKey, Problems.TooLarge(limits.MaxFileBytes));
        }
        catch (InvalidDataException e)
        {
            return await RefuseAsync(blobs, storedKey, Problems.Validation("body", $"The multipart body is malformed: {e.Message}"));
        }
        catch
        {
            await DeleteQuietlyAsync(blobs, storedKey);
            throw;
        }

        var errors = new Dictionary<string, string[]>();
        if (refusal is not null)
        {
            errors["fileName"] = [refusal];
        }
        else if (storedKey is null)
        {
            errors["fileName"] = ["Attach the audio file as the multipart file part 'fileName'."];
        }

        var (preset, presetError) = presetName is null ? (null, null) : await Presets.PresetSelection.FindAsync(db, userId, presetName, cancellationToken);
        if (presetError is not null)
        {
            errors[Presets.PresetSelection.Field] = [presetError];
        }

        var format = AudioFormat.Find(newFormat ?? preset?.NewFormat);
        if (format is null && presetError is null)
        {
            errors["newFormat"] = [TaskEndpoints.FormatError(newFormat)];
        }

        var conversionOptions = format is null ? null : ConversionOptionsParser.Parse(optionFields, format, preset?.Options, preset?.NewFormat);
        foreach (var (option, messages) in conversionOptions?.Errors ?? new Dictionary<string, string[]>())
        {
            errors[option] = messages;
        }

        if (errors.Count > 0)
        {
            return await RefuseAsync(blobs, storedKey, Problems.Validation(errors));
        }

        // Checked again with the real size: the body's length was not known before it was read.
        UploadQuota.Refusal? overBytes;
        try
        {
            overBytes = await UploadQuota.CheckBytesAsync(db, userId, inputBytes, limits, clock.GetUtcNow().UtcDateTime, cancellationToken);
        }
        catch
        {
            await DeleteQuietlyAsync(blobs, storedKey);
            throw;
        }

        if (overBytes is not null)
        {
            return await RefuseAsync(blobs, storedKey, Problems.TooManyRequests(context.Response, overBytes.Detail, overBytes.RetryAfter));
        }

        var fileName = DisplayName.Sanitize(string.IsNullOrWhiteSpace(displayName) ? clientFileName : displayName, DisplayName.Extension(storedKey!));
        var now = clock.GetUtcNow().UtcDateTime;
        var task = new ConversionTask
        {
            UserId = userId,
            FileName = fileName,
            OriginalFormat = OriginalFormatOf(fileName, storedKey!),
            NewFormat = format!.Name,
            Status = ConversionStatus.Uploaded,
            CreatedAt = now,
            UpdatedAt = now,
            InputBytes = inputBytes,
            InputKey = storedKey!,
            Options = conversionOptions!.Options!.ToJson(),
        };
        try
        {
            await transitions.CreateAsync(task, cancellationToken);
        }
        catch
        {
            await DeleteQuietlyAsync(blobs, storedKey);
            throw;
        }

        // Committed: from here the task exists whatever the client does, so its publish is not tied to the request.
        await publisher.PublishAsync(task.Id, task.Fence, CancellationToken.None);
        return TypedResults.Created($"/api/tasks/{task.Id}", TaskResponse.From(task));
    }

    private static async Task<(string? Key, long Length, string? Refusal)> StoreAsync(Stream body, IBlobStore blobs, string extension, long maxBytes, CancellationToken cancellationToken)
    {
        var head = new byte[UploadInspection.HeadLength];
        int headLength;
        try
        {
            headLength = await body.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            throw new InvalidDataException("the file part ended before its boundary", e);
        }

        var refusal = UploadInspection.Refusal(head.AsSpan(0, headLength), extension);
        if (refusal is not null)
        {
            await body.CopyToAsync(Stream.Null, cancellationToken);
            return (null, 0, refusal);
        }

        var key = $"originals/{Guid.NewGuid():N}{(extension.Length > 0 ? "." + extension : "")}";
        await using var limited = new LimitedStream(head.AsMemory(0, headLength), body, maxBytes);
        try
        {
            var length = await blobs.PutAsync(key, limited, cancellationToken);
            return (key, length, null);
        }
        catch
        {
            await DeleteQuietlyAsync(blobs, key);
            throw;
        }
    }

    private static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadNextSectionAsync(cancellationToken);
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            throw new InvalidDataException("the body ended before the closing boundary", e);
        }
    }

    private static string OriginalFormatOf(string fileName, string key)
    {
        var extension = DisplayName.Extension(fileName);
        return extension.Length > 0 ? extension : DisplayName.Extension(key) is { Length: > 0 } k ? k : "unknown";
    }

    private static async Task<string> ReadTextAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxTextFieldBytes + 1];
        int read;
        try
        {
            read = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            throw new InvalidDataException("a text part ended before its boundary", e);
        }

        if (read > MaxTextFieldBytes)
        {
            throw new InvalidDataException($"a text part is longer than {MaxTextFieldBytes} bytes");
        }

        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static async Task<TResult> RefuseAsync<TResult>(IBlobStore blobs, string? storedKey, TResult result)
    {
        await DeleteQuietlyAsync(blobs, storedKey);
        return result;
    }

    private static async Task DeleteQuietlyAsync(IBlobStore blobs, string? key)
    {
        if (key is null)
        {
            return;
        }

        try
        {
            await blobs.DeleteAsync(key, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The orphan is harmless; the request's own error matters more.
        }
    }

    /// <summary>Replays the inspected head, then the rest of the body, and stops past the limit.</summary>
    private sealed class LimitedStream(ReadOnlyMemory<byte> head, Stream inner, long maxBytes) : Stream
    {
        private ReadOnlyMemory<byte> pending = head;
        private long total;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => total; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read;
            if (!pending.IsEmpty)
            {
                read = Math.Min(buffer.Length, pending.Length);
                pending[..read].CopyTo(buffer);
                pending = pending[read..];
            }
            else
            {
                try
                {
                    read = await inner.ReadAsync(buffer, cancellationToken);
                }
                catch (IOException e) when (e is not BadHttpRequestException)
                {
                    // The client's body ended or broke mid-file: the request's fault, not the store's.
                    throw new InvalidDataException("the upload ended before the file was complete", e);
                }
            }

            total += read;
            if (total > maxBytes)
            {
                throw new FileTooLargeException();
            }

            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class FileTooLargeException : Exception;
}
