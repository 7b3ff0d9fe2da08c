using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Tasks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace AudioConverter.Server.Files;

/// <summary>Downloads, streamed from the blob store as attachments, with ETag and Range.</summary>
public static class FileEndpoints
{
    public static IEndpointRouteBuilder MapFileEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api").WithTags("Files").RequireAuthorization();
        group.MapGet("/tasks/{id:long}/original", OriginalAsync).WithSummary("Download the uploaded file");
        group.MapGet("/tasks/{id:long}/converted", ConvertedAsync).WithSummary("Download the converted file (409 until processed)");
        group.MapGet("/download/{id:long}", OriginalAsync).WithSummary("Alias of /api/tasks/{id}/original, for the Flask original's client");
        group.MapGet("/files/{fileName}", ByStoredNameAsync).WithSummary("Download a file by the stored name shown in a task's URLs");
        return routes;
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> OriginalAsync(
        long id, CurrentUser user, AppDbContext db, IBlobStore blobs, CancellationToken cancellationToken)
    {
        var task = await FindAsync(db, user, t => t.Id == id, cancellationToken);
        return task is null ? Problems.NotFound() : await ServeAsync(blobs, task, converted: false, cancellationToken);
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> ConvertedAsync(
        long id, CurrentUser user, AppDbContext db, IBlobStore blobs, CancellationToken cancellationToken)
    {
        var task = await FindAsync(db, user, t => t.Id == id, cancellationToken);
        if (task is null)
        {
            return Problems.NotFound();
        }

        if (task.Status != ConversionStatus.Processed || task.OutputKey is null)
        {
            return Problems.Conflict(task.Status == ConversionStatus.Failed
                ? $"The conversion failed, so there is no converted file: {task.Error}"
                : $"The task is {task.Status.ToString().ToLowerInvariant()}; the converted file is ready once it is processed.");
        }

        return await ServeAsync(blobs, task, converted: true, cancellationToken);
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> ByStoredNameAsync(
        string fileName, CurrentUser user, AppDbContext db, IBlobStore blobs, CancellationToken cancellationToken)
    {
        if (fileName.Length > 100 || fileName.Contains('/') || fileName.Contains('\\') || fileName.Contains("..", StringComparison.Ordinal))
        {
            return Problems.NotFound("file");
        }

        var originalKey = BlobKeys.Originals + fileName;
        var convertedKey = BlobKeys.Converted + fileName;
        var task = await FindAsync(db, user, t => t.InputKey == originalKey || (t.OutputKey == convertedKey && t.Status == ConversionStatus.Processed), cancellationToken);
        if (task is null)
        {
            return Problems.NotFound("file");
        }

        return await ServeAsync(blobs, task, converted: task.InputKey != originalKey, cancellationToken);
    }

    private static Task<ConversionTask?> FindAsync(AppDbContext db, CurrentUser user, System.Linq.Expressions.Expression<Func<ConversionTask, bool>> predicate, CancellationToken cancellationToken) =>
        db.Tasks.AsNoTracking().OwnedBy(user).Where(predicate).FirstOrDefaultAsync(cancellationToken);

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> ServeAsync(IBlobStore blobs, ConversionTask task, bool converted, CancellationToken cancellationToken)
    {
        var key = converted ? task.OutputKey! : task.InputKey;
        var stream = await blobs.OpenReadAsync(key, cancellationToken);
        if (stream is null)
        {
            return Problems.NotFound("file");
        }

        var downloadName = converted ? DisplayName.WithExtension(task.FileName, AudioFormat.Find(task.NewFormat)?.Extension ?? task.NewFormat) : task.FileName;
        var contentType = converted ? AudioFormat.ContentTypeForExtension(task.NewFormat) : AudioFormat.ContentTypeForExtension(task.OriginalFormat);
        var tag = converted ? $"\"c{task.Id}-v{task.Version}-{task.OutputBytes}\"" : $"\"o{task.Id}-{task.InputBytes}\"";
        var lastModified = DateTime.SpecifyKind(converted ? task.ProcessedAt ?? task.UpdatedAt : task.CreatedAt, DateTimeKind.Utc);
        return TypedResults.Stream(stream, contentType, downloadName, new DateTimeOffset(lastModified), new EntityTagHeaderValue(tag), enableRangeProcessing: true);
    }
}
