using AudioConverter.Core.Queue;
using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Tasks;

public static partial class TaskEndpoints
{
    // The list is the hottest read: compiled once instead of translated per request.
    private static readonly Func<AppDbContext, long, int, IAsyncEnumerable<ConversionTask>> OldestFirst =
        EF.CompileAsyncQuery((AppDbContext db, long userId, int limit) => db.Tasks.AsNoTracking().Where(t => t.UserId == userId).OrderBy(t => t.Id).Take(limit));

    private static readonly Func<AppDbContext, long, int, IAsyncEnumerable<ConversionTask>> NewestFirst =
        EF.CompileAsyncQuery((AppDbContext db, long userId, int limit) => db.Tasks.AsNoTracking().Where(t => t.UserId == userId).OrderByDescending(t => t.Id).Take(limit));

    public static RouteGroupBuilder MapTaskEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/tasks").WithTags("Tasks").RequireAuthorization();
        group.MapGet("/", ListAsync).WithSummary("The caller's tasks");
        group.MapPost("/", UploadHandler.HandleAsync)
            .Accepts<IFormFile>("multipart/form-data")
            .DisableAntiforgery()
            .WithSummary("Upload an audio file and ask for another format (multipart: fileName, newFormat)");
        group.MapGet("/{id:long}", GetAsync).WithSummary("One task");
        group.MapPut("/{id:long}", ReconvertAsync).Accepts<ReconvertRequest>("application/json").WithSummary("Convert again, to the same or another format");
        group.MapDelete("/{id:long}", DeleteAsync).WithSummary("Delete a task and both its files");
        return group;
    }

    private static async Task<Results<Ok<List<TaskResponse>>, ValidationProblem>> ListAsync(
        string? max, string? order, HttpContext context, AppDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var limit = 100;
        if (max is not null && (!int.TryParse(max, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > 1000))
        {
            errors["max"] = [$"'max' must be a whole number from 1 to 1000; got '{max}'."];
        }

        var newestFirst = false;
        if (order is not null)
        {
            if (order is "0" or "1")
            {
                newestFirst = order == "1";
            }
            else
            {
                errors["order"] = [$"'order' must be 0 (oldest first) or 1 (newest first); got '{order}'."];
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var userId = TokenService.UserId(context.User);
        var tasks = new List<TaskResponse>();
        await foreach (var task in (newestFirst ? NewestFirst : OldestFirst)(db, userId, limit).WithCancellation(cancellationToken))
        {
            tasks.Add(TaskResponse.From(task));
        }

        return TypedResults.Ok(tasks);
    }

    private static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> GetAsync(long id, HttpContext context, AppDbContext db, CancellationToken cancellationToken)
    {
        var userId = TokenService.UserId(context.User);
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && t.UserId == userId, cancellationToken);
        return task is null ? Problems.NotFound() : TypedResults.Ok(TaskResponse.From(task));
    }

    private static async Task<Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult>> ReconvertAsync(
        long id, HttpContext context, AppDbContext db, IBlobStore blobs, ITaskQueue queue, TimeProvider clock, ILogger<ReconvertRequest> logger, CancellationToken cancellationToken)
    {
        var userId = TokenService.UserId(context.User);
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && t.UserId == userId, cancellationToken);
        if (task is null)
        {
            return Problems.NotFound();
        }

        var (body, error) = await RequestJson.ReadAsync<ReconvertRequest>(context.Request, cancellationToken);
        if (body is null)
        {
            return Problems.Validation("body", error!);
        }

        var format = AudioFormat.Find(body.NewFormat ?? task.NewFormat);
        if (format is null)
        {
            return Problems.Validation("newFormat", FormatError(body.NewFormat));
        }

        var options = body.ResolveOptions(format, task);
        if (!options.IsValid)
        {
            return Problems.Validation(options.Errors.ToDictionary());
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var updated = await db.Tasks
            .Where(t => t.Id == id && t.UserId == userId && t.Status != ConversionStatus.Processing && t.Version == task.Version)
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.NewFormat, format.Name)
                .SetProperty(t => t.Options, options.Options!.ToJson())
                .SetProperty(t => t.Progress, (int?)null)
                .SetProperty(t => t.Result, (string?)null)
                .SetProperty(t => t.Status, ConversionStatus.Uploaded)
                .SetProperty(t => t.Version, t => t.Version + 1)
                .SetProperty(t => t.Error, (string?)null)
                .SetProperty(t => t.OutputKey, (string?)null)
                .SetProperty(t => t.OutputBytes, (long?)null)
                .SetProperty(t => t.StartedAt, (DateTime?)null)
                .SetProperty(t => t.ProcessedAt, (DateTime?)null)
                .SetProperty(t => t.Attempts, 0)
                .SetProperty(t => t.NotBefore, (DateTime?)null)
                .SetProperty(t => t.LeaseOwner, (string?)null)
                .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(t => t.PublishedAt, now)
                .SetProperty(t => t.UpdatedAt, now), cancellationToken);
        if (updated == 0)
        {
            return Problems.Conflict("The task is being converted right now; wait until it is processed or failed, then try again.");
        }

        if (task.OutputKey is not null)
        {
            await blobs.DeleteAsync(task.OutputKey, cancellationToken);
        }

        await PublishAsync(db, queue, id, logger, cancellationToken);
        var fresh = await db.Tasks.AsNoTracking().FirstAsync(t => t.Id == id, cancellationToken);
        return TypedResults.Ok(TaskResponse.From(fresh));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        long id, HttpContext context, AppDbContext db, IBlobStore blobs, CancellationToken cancellationToken)
    {
        var userId = TokenService.UserId(context.User);
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && t.UserId == userId, cancellationToken);
        if (task is null)
        {
            return Problems.NotFound();
        }

        var deleted = await db.Tasks.Where(t => t.Id == id && t.UserId == userId && t.Status != ConversionStatus.Processing).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return Problems.Conflict("The task is being converted right now; wait until it is processed or failed, then delete it.");
        }

        await blobs.DeleteAsync(task.InputKey, cancellationToken);
        if (task.OutputKey is not null)
        {
            await blobs.DeleteAsync(task.OutputKey, cancellationToken);
        }

        return TypedResults.NoContent();
    }

    /// <summary>Publishes the wake-up message; when the queue is down the row says a publish is owed and the sweeper sends it.</summary>
    internal static async Task PublishAsync(AppDbContext db, ITaskQueue queue, long taskId, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await queue.PublishAsync(taskId, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPublishFailed(logger, taskId, e.Message);
            await db.Tasks.Where(t => t.Id == taskId).ExecuteUpdateAsync(s => s.SetProperty(t => t.PublishedAt, (DateTime?)null), CancellationToken.None);
        }
    }

    internal static string FormatError(string? requested) =>
        string.IsNullOrWhiteSpace(requested)
            ? $"Choose the format to convert to: one of {string.Join(", ", AudioFormat.All.Select(f => f.Name))}."
            : $"'{requested}' is not a supported format; choose one of {string.Join(", ", AudioFormat.All.Select(f => f.Name))}.";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing task {TaskId} failed; the sweeper will publish it: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, long taskId, string reason);
}
