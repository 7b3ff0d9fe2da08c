using System.Text.Json;

namespace AudioConverter.Server.Hosting;

/// <summary>Reads a small JSON body with an error a person can act on instead of a bare 400.</summary>
public static class RequestJson
{
    private const long MaxJsonBytes = 64 * 1024;

    // A field given twice is refused, never silently resolved to one of its values.
    private static readonly JsonSerializerOptions Strict = new(JsonSerializerOptions.Web) { AllowDuplicateProperties = false };

    public static async Task<(T? Value, string? Error)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, "The request body must be JSON (Content-Type: application/json).");
        }

        if (request.ContentLength > MaxJsonBytes)
        {
            return (null, $"The JSON body is larger than {MaxJsonBytes} bytes.");
        }

        try
        {
            var value = await request.ReadFromJsonAsync<T>(Strict, cancellationToken);
            return value is null ? (null, "The request body is empty; send a JSON object.") : (value, null);
        }
        catch (JsonException e)
        {
            return (null, $"The request body is not valid JSON: {e.Message.Split(". Path")[0]}.".Replace("..", ".", StringComparison.Ordinal));
        }
    }
}
