using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AudioConverter.Core.Conversion;
using AudioConverter.Core.Presets;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Tasks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Presets;

/// <summary>POST/PUT /api/presets: a name, a target format and any conversion options, as JSON fields of api.md's names.</summary>
public sealed record PresetRequest(string? Name, string? NewFormat)
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Fields { get; init; }
}

/// <summary>/api/presets: the built-in presets and the caller's own; only one's own can be changed. Another user's preset is a 404.</summary>
public static class PresetEndpoints
{
    public const int MaxPresetsPerUser = 100;

    public static RouteGroupBuilder MapPresetEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/presets").WithTags("Presets").RequireAuthorization();
        group.MapGet("/", ListAsync).WithSummary("The built-in presets and the caller's own: name, builtIn, newFormat and the options");
        group.MapPost("/", CreateAsync).Accepts<PresetRequest>("application/json").WithSummary("Save a preset of one's own; 409 when the name is taken (built-in names are)");
        group.MapPut("/{name}", UpdateAsync).Accepts<PresetRequest>("application/json").WithSummary("Replace one's own preset (a new name in the body renames it)");
        group.MapDelete("/{name}", DeleteAsync).WithSummary("Delete one's own preset");
        return group;
    }

    /// <summary>The preset as listed: <c>{name, builtIn, newFormat, ...options}</c>.</summary>
    public static JsonObject ToJson(Preset preset)
    {
        var json = new JsonObject { ["name"] = preset.Name, ["builtIn"] = preset.BuiltIn, ["newFormat"] = preset.NewFormat };
        foreach (var (key, value) in JsonNode.Parse(preset.Options.ToJson())!.AsObject())
        {
            json[key] = value?.DeepClone();
        }

        return json;
    }

    private static async Task<Ok<JsonArray>> ListAsync(CurrentUser user, AppDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.Id;
        var own = await db.UserPresets.AsNoTracking().Where(p => p.UserId == userId).OrderBy(p => p.Name).ToListAsync(cancellationToken);
        var all = new JsonArray();
        foreach (var preset in BuiltInPresets.All.Concat(own.Select(FromRow)))
        {
            all.Add(ToJson(preset));
        }

        return TypedResults.Ok(all);
    }

    private static async Task<Results<Created<JsonObject>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CurrentUser user, HttpContext context, AppDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestJson.ReadAsync<PresetRequest>(context.Request, cancellationToken);
        if (body is null)
        {
            return Problems.Validation("body", error!);
        }

        var (name, format, options, problems) = Validate(body);
        if (problems is not null)
        {
            return Problems.Validation(problems);
        }

        var userId = user.Id;
        if (BuiltInPresets.Find(name) is not null || await db.UserPresets.AnyAsync(p => p.UserId == userId && p.Name == name, cancellationToken))
        {
            return Problems.Conflict($"The preset name '{name}' is taken; choose another, or PUT /api/presets/{{name}} to change your own.");
        }

        if (await db.UserPresets.CountAsync(p => p.UserId == userId, cancellationToken) >= MaxPresetsPerUser)
        {
            return Problems.Conflict($"You have {MaxPresetsPerUser} presets, the most there may be; delete one first.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var row = new UserPreset { UserId = userId, Name = name, NewFormat = format, Options = options.ToJson(), CreatedAt = now, UpdatedAt = now };
        db.UserPresets.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The unique index: a concurrent create with the same name won.
            return Problems.Conflict($"The preset name '{name}' is taken; choose another.");
        }

        return TypedResults.Created($"/api/presets/{Uri.EscapeDataString(name)}", ToJson(FromRow(row)));
    }

    private static async Task<Results<Ok<JsonObject>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string name, CurrentUser user, HttpContext context, AppDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var userId = user.Id;
        var row = await db.UserPresets.FirstOrDefaultAsync(p => p.UserId == userId && p.Name == name, cancellationToken);
        if (row is null)
        {
            return BuiltInPresets.Find(name) is not null
                ? Problems.Conflict($"'{name}' is a built-in preset and cannot be changed; save a copy under another name.")
                : Problems.NotFound("preset");
        }

        var (body, error) = await RequestJson.ReadAsync<PresetRequest>(context.Request, cancellationToken);
        if (body is null)
        {
            return Problems.Validation("body", error!);
        }

        var (newName, format, options, problems) = Validate(body with { Name = body.Name ?? row.Name });
        if (problems is not null)
        {
            return Problems.Validation(problems);
        }

        if (newName != row.Name && (BuiltInPresets.Find(newName) is not null || await db.UserPresets.AnyAsync(p => p.UserId == userId && p.Name == newName, cancellationToken)))
        {
            return Problems.Conflict($"The preset name '{newName}' is taken; choose another.");
        }

        row.Name = newName;
        row.NewFormat = format;
        row.Options = options.ToJson();
        row.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return Problems.Conflict($"The preset name '{newName}' is taken; choose another.");
        }

        return TypedResults.Ok(ToJson(FromRow(row)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, CurrentUser user, AppDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.Id;
        var deleted = await db.UserPresets.Where(p => p.UserId == userId && p.Name == name).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return BuiltInPresets.Find(name) is not null
                ? Problems.Conflict($"'{name}' is a built-in preset and cannot be deleted.")
                : Problems.NotFound("preset");
        }

        return TypedResults.NoContent();
    }

    private static (string Name, string Format, ConversionOptions Options, Dictionary<string, string[]>? Errors) Validate(PresetRequest body)
    {
        var errors = new Dictionary<string, string[]>();
        if (PresetName.Problem(body.Name) is { } nameProblem)
        {
            errors["name"] = [nameProblem];
        }

        var format = AudioFormat.Find(body.NewFormat);
        if (format is null)
        {
            errors["newFormat"] = [TaskEndpoints.FormatError(body.NewFormat)];
            return ("", "", ConversionOptions.None, errors);
        }

        var result = ReconvertRequest.Resolve(body.Fields, format, null, null);
        foreach (var (option, messages) in result.Errors)
        {
            errors[option] = messages;
        }

        return errors.Count > 0 ? ("", "", ConversionOptions.None, errors) : (body.Name!, format.Name, result.Options!, null);
    }

    private static Preset FromRow(UserPreset row) => new(row.Name, false, row.NewFormat, ConversionOptions.FromJson(row.Options));
}
