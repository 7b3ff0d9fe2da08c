using System.Runtime.ExceptionServices;
using System.Text;
using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace AudioConverter.Server.Tasks;

/// <summary>Why an upload is refused before a task exists: a 400 naming the field, or a 413.</summary>
public sealed record UploadRefusal(string Field, string Message, bool TooLarge = false);

/// <summary>
/// The parts of one upload, read in a single pass over the body: the file streams into the blob store (inspected,
/// size-limited and hashed on the way) and every text part is kept. Disposing it deletes the stored file unless the
/// handler kept it.
/// </summary>
public sealed class UploadForm : IAsyncDisposable
{
    public const int MaxTextFieldBytes = 16 * 1024;
    private static readonly string[] FileFields = ["fileName", "file", "audio"];
    private readonly Dictionary<string, string> fields = new(StringComparer.Ordinal);

    /// <summary>The stored file; null when none was sent or it was refused.</summary>
    public PendingBlob? File { get; private set; }

    /// <summary>The file name the client's file part carried.</summary>
    public string ClientFileName { get; private set; } = "";

    /// <summary>Why the file's first bytes were refused (they do not match its name, or are no audio); null when accepted.</summary>
    public string? FileRefusal { get; private set; }

    public string? NewFormat { get; private set; }

    /// <summary>The optional 'filename' text part: the name to show instead of the file part's.</summary>
    public string? DisplayName { get; private set; }

    /// <summary>Every other text part by name (conversion options, a webhook URL, ...), at most MaxSections of MaxTextFieldBytes each.</summary>
    public IReadOnlyDictionary<string, string> Fields => fields;

    /// <summary>Why the body as a whole is refused (framing, size, parts); null when it was read to the end.</summary>
    public UploadRefusal? Refusal { get; private set; }

    /// <summary>Checks the request line and headers before any of the body is read; null and the boundary when fine.</summary>
    public static UploadRefusal? CheckHeaders(HttpContext context, UploadOptions limits, out string boundary)
    {
        boundary = "";
        var request = context.Request;

        // Multipart framing adds a little; anything beyond that is refused before a byte of the body is read.
        var bodyLimit = limits.MaxFileBytes + 64 * 1024;
        if (request.ContentLength > bodyLimit)
        {
            return new UploadRefusal("fileName", "", TooLarge: true);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = bodyLimit;
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return new UploadRefusal("fileName", "Send the file as multipart/form-data with the parts 'fileName' (the audio file) and 'newFormat'.");
        }

        boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value ?? "";
        return string.IsNullOrWhiteSpace(boundary) || boundary.Length > 200 ? new UploadRefusal("fileName", "The multipart body has no valid boundary.") : null;
    }

    /// <summary>Reads the whole body. Refusals are in <see cref="Refusal"/>; other errors (the store failing, a cancelled request) throw, after clean-up.</summary>
    public static async Task<UploadForm> ReadAsync(HttpRequest request, string boundary, IBlobStore blobs, UploadOptions limits, CancellationToken cancellationToken)
    {
        var form = new UploadForm();
        try
        {
            form.Refusal = await form.ReadPartsAsync(new MultipartBodyReader(request.BodyReader, boundary), blobs, limits, cancellationToken);
        }
        catch (Exception e) when (e is FileTooLargeException || e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            form.Refusal = new UploadRefusal("fileName", "", TooLarge: true);
        }
        catch (InvalidDataException e)
        {
            form.Refusal = new UploadRefusal("body", $"The multipart body is malformed: {e.Message}.");
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            // The client's connection broke mid-body: its request, not the server, is at fault.
            form.Refusal = new UploadRefusal("body", "The multipart body is malformed: it ended before it was complete.");
        }
        catch
        {
            await form.DisposeAsync();
            throw;
        }

        return form;
    }

    public ValueTask DisposeAsync() => File?.DisposeAsync() ?? ValueTask.CompletedTask;

    private async Task<UploadRefusal?> ReadPartsAsync(MultipartBodyReader reader, IBlobStore blobs, UploadOptions limits, CancellationToken cancellationToken)
    {
        var sections = 0;
        while (await reader.NextAsync(cancellationToken) is (true, var disposition))
        {
            if (++sections > limits.MaxSections)
            {
                return new UploadRefusal("body", $"The upload has more than {limits.MaxSections} parts.");
            }

            if (disposition is null || !disposition.IsFormDisposition() && !disposition.IsFileDisposition())
            {
                continue;
            }

            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (disposition.IsFileDisposition())
            {
                if (!FileFields.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (File is not null || FileRefusal is not null)
                {
                    return new UploadRefusal("fileName", "Send one file per upload.");
                }

                ClientFileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
                await StoreFileAsync(reader.Body, blobs, limits.MaxFileBytes, cancellationToken);
                continue;
            }

            var value = await ReadTextAsync(reader.Body, cancellationToken);
            if (name.Equals("newFormat", StringComparison.OrdinalIgnoreCase))
            {
                NewFormat = value;
            }
            else if (name.Equals("filename", StringComparison.Ordinal))
            {
                DisplayName = value;
            }
            else if (!fields.TryAdd(name, value))
            {
                return new UploadRefusal(name, $"{name} is given twice; give it once.");
            }
        }

        return null;
    }

    private async Task StoreFileAsync(Stream body, IBlobStore blobs, long maxBytes, CancellationToken cancellationToken)
    {
        var extension = Core.Tasks.DisplayName.Extension(Core.Tasks.DisplayName.Sanitize(ClientFileName, "bin"));
        var head = new byte[UploadInspection.HeadLength];
        var headLength = await body.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        FileRefusal = UploadInspection.Refusal(head.AsSpan(0, headLength), extension);
        if (FileRefusal is not null)
        {
            return;
        }

        var key = BlobKeys.NewOriginal(extension);
        await using var content = new LimitedStream(head.AsMemory(0, headLength), body, maxBytes);
        try
        {
            var length = await blobs.PutAsync(key, content, cancellationToken);
            File = new PendingBlob(blobs, key, length, content.Sha256());
        }
        catch (Exception e)
        {
            // The store may have kept part of it.
            await new PendingBlob(blobs, key, 0, "").DisposeAsync();
            var fault = WhoseFault(e, content.ClientFailure, cancellationToken);
            if (ReferenceEquals(fault, e))
            {
                throw;
            }

            ExceptionDispatchInfo.Throw(fault);
        }
    }

    /// <summary>
    /// A failed write is the client's fault only when reading its body failed; anything else is the store's, and must
    /// not reach the 400 answers of <see cref="ReadAsync"/> (an IOException of a full disk or of a connection to S3
    /// that was cut is not a malformed body): it becomes the port's <see cref="BackendUnreachableException"/>, a 503.
    /// </summary>
    private static Exception WhoseFault(Exception thrown, Exception? clientFailure, CancellationToken cancellationToken)
    {
        if (clientFailure is not null)
        {
            return clientFailure;
        }

        var clientGaveUp = thrown is OperationCanceledException && cancellationToken.IsCancellationRequested;
        return thrown is BackendUnreachableException || clientGaveUp
            ? thrown
            : new BackendUnreachableException($"The blob store failed while storing the upload: {BackendStartup.Describe(thrown)}", thrown);
    }

    private static async Task<string> ReadTextAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxTextFieldBytes + 1];
        var read = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        if (read > MaxTextFieldBytes)
        {
            throw new InvalidDataException($"a text part is longer than {MaxTextFieldBytes} bytes");
        }

        return Encoding.UTF8.GetString(buffer, 0, read);
    }
}
