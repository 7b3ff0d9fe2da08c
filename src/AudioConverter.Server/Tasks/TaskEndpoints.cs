using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Tasks;

public static class TaskEndpoints
{
    public static RouteGroupBuilder MapTaskEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/tasks").WithTags("Tasks").RequireAuthorization();
        group.MapGet("/", ListAsync).WithSummary("The caller's tasks");
        group.MapPost("/", UploadHandler.HandleAsync)
            .AddEndpointFilter<Admission.AdmissionFilter>()
            .Accepts<IFormFile>("multipart/form-data")
            .DisableAntiforgery()
            .WithSummary("Upload an audio file and ask for another format (multipart: fileName, newFormat)");
        group.MapGet("/{id:long}", GetAsync).WithSummary("One task");
        group.MapPut("/{id:long}", ReconvertAsync).Accepts<ReconvertRequest>("application/json").WithSummary("Convert again, to the same or another format");
        group.MapDelete("/{id:long}", DeleteAsync).WithSummary("Delete a task and both its files");
        return group;
    }

    private static async Task<Results<Ok<List<TaskResponse>>, ValidationProblem>> ListAsync(
        string? max, string? order, string? after, HttpContext context, AppDbContext db, CancellationToken cancellationToken)
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

        long? cursor = null;
        if (after is not null && (cursor = TaskListCursor.Decode(after)) is null)
        {
            errors["after"] = ["'after' must be the cursor of a previous page, as given in its Link header (rel=\"next\"); start again without it."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        // One row more than asked for tells whether a next page exists, without a count.
        var userId = TokenService.UserId(context.User);
        var tasks = await TaskListQuery.PageAsync(db, userId, newestFirst, cursor, limit + 1, cancellationToken);

        if (tasks.Count > limit)
        {
            tasks.RemoveAt(limit);
            var next = $"/api/tasks?max={limit}&order={(newestFirst ? 1 : 0)}&after={TaskListCursor.Encode(tasks[^1].Id)}";
            context.Response.Headers.Link = $"<{next}>; rel=\"next\"";
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
        long id, HttpContext context, AppDbContext db, IBlobStore blobs, TaskTransitions transitions, TaskPublisher publisher, CancellationToken cancellationToken)
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

        Presets.Preset? preset = null;
        if (body.Fields?.Remove(Presets.PresetSelection.Field, out var presetField) == true)
        {
            var (found, presetError) = await Presets.PresetSelection.FindAsync(db, userId, presetField.ValueKind == System.Text.Json.JsonValueKind.String ? presetField.GetString() : null, cancellationToken);
            if (found is null)
            {
                return Problems.Validation(Presets.PresetSelection.Field, presetError!);
            }

            preset = found;
        }

        var format = AudioFormat.Find(body.NewFormat ?? preset?.NewFormat ?? task.NewFormat);
        if (format is null)
        {
            return Problems.Validation("newFormat", FormatError(body.NewFormat));
        }

        var options = preset is null ? body.ResolveOptions(format, task) : body.ResolveOptions(format, preset.Options, preset.NewFormat);
        if (!options.IsValid)
        {
            return Problems.Validation(options.Errors.ToDictionary());
        }

        var optionsJson = options.Options!.ToJson();
        // Compare and swap against the row as read: a worker finishing in between changes the output key, and the
        // update is tried again on the fresh row, so the key deleted is always the one the winning update replaced.
        for (var attempt = 0; ; attempt++)
        {
            if (task.Status == ConversionStatus.Processing)
            {
                return Problems.Conflict("The task is being converted right now; wait until it is processed or failed, then try again.");
            }

            if (task.Status == ConversionStatus.Expired)
            {
                return Problems.Conflict("The task's files were removed after the retention period; upload the file again.");
            }

            if (await transitions.ReconvertAsync(task, format.Name, optionsJson, cancellationToken))
            {
                break;
            }

            task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && t.UserId == userId, cancellationToken);
            if (task is null)
            {
                return Problems.NotFound();
            }

            if (attempt >= 5)
            {
                return Problems.Conflict("The task changed while it was being converted again; try again.");
            }
        }

        if (task.OutputKey is not null)
        {
            await blobs.DeleteAsync(task.OutputKey, CancellationToken.None);
        }

        var fresh = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && t.UserId == userId, CancellationToken.None);
        if (fresh is null)
        {
            // Deleted by a concurrent request after this one won: nothing left to convert or to show.
            return Problems.NotFound();
        }

        await publisher.PublishAsync(id, fresh.Fence, CancellationToken.None);
        return TypedResults.Ok(TaskResponse.From(fresh));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        long id, HttpContext context, AppDbContext db, IBlobStore blobs, TaskTransitions transitions, CancellationToken cancellationToken)
    {
        var userId = TokenService.UserId(context.User);
        for (var attempt = 0; ; attempt++)
        {
            var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && t.UserId == userId, cancellationToken);
            if (task is null)
            {
                return Problems.NotFound();
            }

            if (task.Status == ConversionStatus.Processing)
            {
                return Problems.Conflict("The task is being converted right now; wait until it is processed or failed, then delete it.");
            }

            // The delete wins only against the row as read, so the files removed are exactly the deleted row's.
            if (await transitions.DeleteAsync(task, cancellationToken))
            {
                await blobs.DeleteAsync(task.InputKey, CancellationToken.None);
                if (task.OutputKey is not null)
                {
                    await blobs.DeleteAsync(task.OutputKey, CancellationToken.None);
                }

                return TypedResults.NoContent();
            }

            if (attempt >= 5)
            {
                return Problems.Conflict("The task changed while it was being deleted; try again.");
            }
        }
    }

    internal static string FormatError(string? requested) =>
        string.IsNullOrWhiteSpace(requested)
            ? $"Choose the format to convert to: one of {string.Join(", ", AudioFormat.All.Select(f => f.Name))}."
            : $"'{requested}' is not a supported format; choose one of {string.Join(", ", AudioFormat.All.Select(f => f.Name))}.";
}
