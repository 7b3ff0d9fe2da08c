using System.Text.Json;
using System.Text.Json.Serialization;
using AudioConverter.Core.Conversion;
using AudioConverter.Core.Tasks;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// PUT /api/tasks/{id}: an optional new format and any conversion options, as JSON fields of api.md's names.
/// Options not given keep the task's; a null resets one to its default.
/// </summary>
public sealed record ReconvertRequest(string? NewFormat)
{
    /// <summary>Optional: an absolute http(s) URL that receives this task's task.processed and task.failed, signed (see /api/webhooks).</summary>
    public string? WebhookUrl { get; init; }

    /// <summary>Every field other than newFormat and webhookUrl: the options, checked by <see cref="ConversionOptionsParser"/>.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Fields { get; init; }

    /// <summary>The task's options changed by this request, for <paramref name="format"/>; or errors by option.</summary>
    public OptionsResult ResolveOptions(AudioFormat format, ConversionTask task) =>
        ResolveOptions(format, ConversionOptions.FromJson(task.Options), task.NewFormat);

    /// <summary>The options of <paramref name="basis"/> (a task's or a preset's, for <paramref name="basisFormat"/>) changed by this request's fields.</summary>
    public OptionsResult ResolveOptions(AudioFormat format, ConversionOptions basis, string basisFormat) => Resolve(Fields, format, basis, basisFormat);

    /// <summary>JSON option fields read as the validator's name/value pairs and resolved over <paramref name="basis"/>.</summary>
    public static OptionsResult Resolve(Dictionary<string, JsonElement>? fields, AudioFormat format, ConversionOptions? basis, string? basisFormat)
    {
        var pairs = new List<KeyValuePair<string, string?>>();
        var errors = new Dictionary<string, string[]>();
        foreach (var (name, value) in fields ?? [])
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Null:
                    pairs.Add(KeyValuePair.Create(name, (string?)null));
                    break;
                case JsonValueKind.String:
                    pairs.Add(KeyValuePair.Create(name, value.GetString()));
                    break;
                case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    pairs.Add(KeyValuePair.Create(name, (string?)value.GetRawText()));
                    break;
                default:
                    errors[name] = [$"{name} must be a single value (text, number or true/false), not a list or object."];
                    break;
            }
        }

        var result = ConversionOptionsParser.Parse(pairs, format, basis, basisFormat);
        if (errors.Count == 0)
        {
            return result;
        }

        foreach (var (name, messages) in result.Errors)
        {
            errors.TryAdd(name, messages);
        }

        return new OptionsResult(null, errors);
    }
}
