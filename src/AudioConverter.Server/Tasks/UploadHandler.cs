using AudioConverter.Core.Conversion;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// POST /api/tasks: the multipart body streams once into the blob store (see <see cref="UploadForm"/>), and the task
/// row is inserted only once the file is stored. Any refusal or error leaves the stored file to be deleted.
/// </summary>
public static class UploadHandler
{
    public static async Task<Results<Created<TaskResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        CurrentUser user, HttpContext context, [AsParameters] TaskServices services, IOptions<UploadOptions> options, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        if (UploadForm.CheckHeaders(context, limits, out var boundary) is { } badHeaders)
        {
            return Refuse(badHeaders, limits);
        }

        if (await UploadQuota.CheckAsync(services.Db, user.Id, limits, services.Clock.GetUtcNow().UtcDateTime, cancellationToken) is { } overQuota)
        {
            return Problems.TooManyRequests(context.Response, overQuota.Detail, overQuota.RetryAfter);
        }

        // Every return from here deletes the stored file, unless the task that owns it was committed.
        await using var form = await UploadForm.ReadAsync(context.Request, boundary, services.Blobs, limits, cancellationToken);
        if (form.Refusal is { } refusal)
        {
            return Refuse(refusal, limits);
        }

        var (invalid, format, conversionOptions) = await ValidateAsync(form, context, services.Db, user.Id, cancellationToken);
        if (invalid is not null)
        {
            return invalid;
        }

        // Checked again with the real size: the body's length was not known before it was read.
        if (await UploadQuota.CheckBytesAsync(services.Db, user.Id, form.File!.Length, limits, services.Clock.GetUtcNow().UtcDateTime, cancellationToken) is { } overBytes)
        {
            return Problems.TooManyRequests(context.Response, overBytes.Detail, overBytes.RetryAfter);
        }

        var webhookUrl = form.Fields.GetValueOrDefault(Webhooks.TaskWebhook.Field);
        var (task, webhookSecret) = await InsertAndPublishAsync(services, user.Id, form, format!, conversionOptions!, webhookUrl, cancellationToken);
        return TypedResults.Created($"/api/tasks/{task.Id}", TaskResponse.From(task) with { WebhookSecret = webhookSecret });
    }

    /// <summary>
    /// The form's own rules. Every other text part is in <see cref="UploadForm.Fields"/>: this is where those a feature
    /// reads (conversion options, a webhook URL) are validated, each error under its field's name.
    /// </summary>
    private static async Task<(ValidationProblem? Invalid, AudioFormat? Format, ConversionOptions? Options)> ValidateAsync(
        UploadForm form, HttpContext context, AppDbContext db, long userId, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (form.FileRefusal is not null)
        {
            errors["fileName"] = [form.FileRefusal];
        }
        else if (form.File is null)
        {
            errors["fileName"] = ["Attach the audio file as the multipart file part 'fileName'."];
        }

        if (form.Fields.GetValueOrDefault(Webhooks.TaskWebhook.Field) is { } webhookUrl && await Webhooks.TaskWebhook.ProblemAsync(webhookUrl, context, cancellationToken) is { } webhookProblem)
        {
            errors[Webhooks.TaskWebhook.Field] = [webhookProblem];
        }

        // A preset (built-in or the user's own) gives a format and options; parts given explicitly override it.
        var presetName = form.Fields.GetValueOrDefault(Presets.PresetSelection.Field);
        var (preset, presetError) = presetName is null ? (null, null) : await Presets.PresetSelection.FindAsync(db, userId, presetName, cancellationToken);
        if (presetError is not null)
        {
            errors[Presets.PresetSelection.Field] = [presetError];
        }

        var format = AudioFormat.Find(form.NewFormat ?? preset?.NewFormat);
        if (format is null && presetError is null)
        {
            errors["newFormat"] = [TaskEndpoints.FormatError(form.NewFormat)];
        }

        var optionFields = form.Fields.Where(f => f.Key != Presets.PresetSelection.Field && f.Key != Webhooks.TaskWebhook.Field).Select(f => KeyValuePair.Create(f.Key, (string?)f.Value));
        var conversion = format is null ? null : ConversionOptionsParser.Parse(optionFields, format, preset?.Options, preset?.NewFormat);
        foreach (var (option, messages) in conversion?.Errors ?? new Dictionary<string, string[]>())
        {
            errors[option] = messages;
        }

        return (errors.Count > 0 ? Problems.Validation(errors) : null, format, conversion?.Options);
    }

    /// <summary>Inserts the task for the stored file, keeps the file, and publishes the wake-up message.</summary>
    private static async Task<(ConversionTask Task, string? WebhookSecret)> InsertAndPublishAsync(
        TaskServices services, long userId, UploadForm form, AudioFormat format, ConversionOptions options, string? webhookUrl, CancellationToken cancellationToken)
    {
        var file = form.File!;
        var fileName = DisplayName.Sanitize(string.IsNullOrWhiteSpace(form.DisplayName) ? form.ClientFileName : form.DisplayName, DisplayName.Extension(file.Key));
        var now = services.Clock.GetUtcNow().UtcDateTime;
        var task = new ConversionTask
        {
            UserId = userId,
            FileName = fileName,
            OriginalFormat = OriginalFormatOf(fileName, file.Key),
            NewFormat = format.Name,
            Status = ConversionStatus.Uploaded,
            CreatedAt = now,
            UpdatedAt = now,
            InputBytes = file.Length,
            InputKey = file.Key,
            InputSha256 = file.Sha256,
            Options = options.ToJson(),
        };
        string? webhookSecret = null;
        await using (var transaction = webhookUrl is null ? null : await services.Db.Database.BeginTransactionAsync(cancellationToken))
        {
            await services.Transitions.CreateAsync(task, services.Publisher.MarksOnInsert, cancellationToken);
            if (transaction is not null)
            {
                // The task and its webhookUrl endpoint commit together: the dispatcher never sees one without the other.
                webhookSecret = await Webhooks.TaskWebhook.AttachAsync(services.Db, task, webhookUrl!, now, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
        }

        file.Keep();

        // Committed: from here the task exists whatever the client does, so its publish is not tied to the request.
        await services.Publisher.PublishCreatedAsync(task.Id, task.Fence, CancellationToken.None);
        return (task, webhookSecret);
    }

    private static Results<Created<TaskResponse>, ValidationProblem, ProblemHttpResult> Refuse(UploadRefusal refusal, UploadOptions limits) =>
        refusal.TooLarge ? Problems.TooLarge(limits.MaxFileBytes) : Problems.Validation(refusal.Field, refusal.Message);

    private static string OriginalFormatOf(string fileName, string key)
    {
        var extension = DisplayName.Extension(fileName);
        return extension.Length > 0 ? extension : DisplayName.Extension(key) is { Length: > 0 } k ? k : "unknown";
    }
}
