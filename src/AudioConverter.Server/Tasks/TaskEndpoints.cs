using AudioConverter.Core.Conversion;
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

    /// <summary>
    /// The caller's tasks, a page at a time. On SQLite the answer comes from <see cref="TaskListCache"/> when nothing
    /// has been committed since it was built; only a miss takes a DbContext and reads the table. The cache is reached
    /// after authentication and authorization (a key without tasks:read got its 403 before this runs), and is keyed
    /// by the user, so an answer is only ever written to the user it was built for.
    /// </summary>
    private static async Task<Results<Ok<List<TaskResponse>>, ValidationProblem, CachedTaskPage>> ListAsync(
        string? max, string? order, string? after, CurrentUser user, HttpContext context, TaskListCache cache, CancellationToken cancellationToken)
    {
        var (key, errors) = ListQuery(max, order, after, user);
        if (errors is not null)
        {
            return Problems.Validation(errors);
        }

        var (kept, generation) = cache.Find(key);
        if (kept is not null)
        {
            return kept;
        }

        // Read after the version (Find): the page reflects that state or a newer one, never an older one.
        var services = context.RequestServices;
        var db = services.GetRequiredService<AppDbContext>();
        var statements = services.GetRequiredService<SqliteTaskListStatements>();

        // One row more than asked for tells whether a next page exists, without a count.
        var tasks = await TaskListQuery.PageAsync(db, statements, user.Id, key.NewestFirst, key.Cursor, key.Limit + 1, cancellationToken);
        string? link = null;
        if (tasks.Count > key.Limit)
        {
            tasks.RemoveAt(key.Limit);
            link = $"</api/tasks?max={key.Limit}&order={(key.NewestFirst ? 1 : 0)}&after={TaskListCursor.Encode(tasks[^1].Id)}>; rel=\"next\"";
        }

        if (generation is not null)
        {
            var json = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            return TaskListCache.Store(generation, key, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(tasks, json), link);
        }

        if (link is not null)
        {
            context.Response.Headers.Link = link;
        }

        return TypedResults.Ok(tasks);
    }

    /// <summary>The listing's query string, checked: every field's error at once, or the page it asks for.</summary>
    private static (TaskListCache.Key Key, Dictionary<string, string[]>? Errors) ListQuery(string? max, string? order, string? after, CurrentUser user)
    {
        // Made only for a refused query: a listing allocates as little as it can.
        Dictionary<string, string[]>? errors = null;
        var limit = 100;
        if (max is not null && (!int.TryParse(max, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > 1000))
        {
            (errors ??= new())["max"] = [$"'max' must be a whole number from 1 to 1000; got '{max}'."];
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
                (errors ??= new())["order"] = [$"'order' must be 0 (oldest first) or 1 (newest first); got '{order}'."];
            }
        }

        long? cursor = null;
        if (after is not null && (cursor = TaskListCursor.Decode(after)) is null)
        {
            (errors ??= new())["after"] = ["'after' must be the cursor of a previous page, as given in its Link header (rel=\"next\"); start again without it."];
        }

        return (new TaskListCache.Key(user.Id, limit, newestFirst, cursor), errors);
    }

    private static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> GetAsync(long id, CurrentUser user, AppDbContext db, CancellationToken cancellationToken)
    {
        var task = await db.FindOwnedTaskAsync(user, id, cancellationToken);
        return task is null ? Problems.NotFound() : TypedResults.Ok(TaskResponse.From(task));
    }

    private static async Task<Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult>> ReconvertAsync(
        long id, CurrentUser user, HttpContext context, [AsParameters] TaskServices services, CancellationToken cancellationToken)
    {
        var task = await services.Db.FindOwnedTaskAsync(user, id, cancellationToken);
        if (task is null)
        {
            return Problems.NotFound();
        }

        var (body, error) = await RequestJson.ReadAsync<ReconvertRequest>(context.Request, cancellationToken);
        if (body is null)
        {
            return Problems.Validation("body", error!);
        }

        var (invalid, format, options) = await ValidateAsync(body, task, context, services.Db, user, cancellationToken);
        if (invalid is not null)
        {
            return invalid;
        }

        var (replaced, refused) = await ReplaceAsync(task, format!.Name, options!.ToJson(), user, services, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (replaced!.OutputKey is not null)
        {
            await services.Blobs.DeleteAsync(replaced.OutputKey, CancellationToken.None);
        }

        var fresh = await services.Db.FindOwnedTaskAsync(user, id, CancellationToken.None);
        if (fresh is null)
        {
            // Deleted by a concurrent request after this one won: nothing left to convert or to show.
            return Problems.NotFound();
        }

        var webhookSecret = body.WebhookUrl is null ? null : await Webhooks.TaskWebhook.AttachAsync(services.Db, fresh, body.WebhookUrl, fresh.UpdatedAt, CancellationToken.None);
        await services.Publisher.PublishAsync(id, fresh.Fence, CancellationToken.None);
        return TypedResults.Ok(TaskResponse.From(fresh) with { WebhookSecret = webhookSecret });
    }

    /// <summary>
    /// The PUT body's rules: a webhookUrl, then a preset that gives a format and options; fields given explicitly override it and the task's
    /// own. Every field a feature reads from the body is validated here, each error under its field's name.
    /// </summary>
    private static async Task<(ValidationProblem? Invalid, AudioFormat? Format, ConversionOptions? Options)> ValidateAsync(
        ReconvertRequest body, ConversionTask task, HttpContext context, AppDbContext db, CurrentUser user, CancellationToken cancellationToken)
    {
        if (body.WebhookUrl is { } webhookUrl && await Webhooks.TaskWebhook.ProblemAsync(webhookUrl, context, cancellationToken) is { } webhookProblem)
        {
            return (Problems.Validation(Webhooks.TaskWebhook.Field, webhookProblem), null, null);
        }

        Presets.Preset? preset = null;
        if (body.Fields?.Remove(Presets.PresetSelection.Field, out var presetField) == true)
        {
            var (found, presetError) = await Presets.PresetSelection.FindAsync(db, user.Id, presetField.ValueKind == System.Text.Json.JsonValueKind.String ? presetField.GetString() : null, cancellationToken);
            if (found is null)
            {
                return (Problems.Validation(Presets.PresetSelection.Field, presetError!), null, null);
            }

            preset = found;
        }

        var format = AudioFormat.Find(body.NewFormat ?? preset?.NewFormat ?? task.NewFormat);
        if (format is null)
        {
            return (Problems.Validation("newFormat", FormatError(body.NewFormat)), null, null);
        }

        var options = preset is null ? body.ResolveOptions(format, task) : body.ResolveOptions(format, preset.Options, preset.NewFormat);
        return options.IsValid ? (null, format, options.Options) : (Problems.Validation(options.Errors.ToDictionary()), null, null);
    }

    /// <summary>
    /// Compare and swap against the row as read: a worker finishing in between changes the output key, and the update
    /// is tried again on the fresh row, so the key the caller deletes is always the one the winning update replaced.
    /// </summary>
    private static async Task<(ConversionTask? Replaced, ProblemHttpResult? Refused)> ReplaceAsync(
        ConversionTask task, string format, string optionsJson, CurrentUser user, TaskServices services, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (task.Status == ConversionStatus.Processing)
            {
                return (null, Problems.Conflict("The task is being converted right now; wait until it is processed or failed, then try again."));
            }

            if (task.Status == ConversionStatus.Expired)
            {
                return (null, Problems.Conflict("The task's files were removed after the retention period; upload the file again."));
            }

            if (await services.Transitions.ReconvertAsync(task, format, optionsJson, cancellationToken))
            {
                return (task, null);
            }

            var current = await services.Db.FindOwnedTaskAsync(user, task.Id, cancellationToken);
            if (current is null)
            {
                return (null, Problems.NotFound());
            }

            if (attempt >= 5)
            {
                return (null, Problems.Conflict("The task changed while it was being converted again; try again."));
            }

            task = current;
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        long id, CurrentUser user, AppDbContext db, IBlobStore blobs, TaskTransitions transitions, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var task = await db.FindOwnedTaskAsync(user, id, cancellationToken);
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
