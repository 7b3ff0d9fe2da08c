using AudioConverter.Core.Conversion;

namespace AudioConverter.Server.Hosting;

public static class FormatEndpoints
{
    public sealed record FormatResponse(
        string Name,
        string Extension,
        string ContentType,
        string Codec,
        string Description,
        bool Lossless,
        IReadOnlyDictionary<string, OptionDescription> Options);

    /// <summary>The formats, described once: they never change while the server runs.</summary>
    private static readonly IReadOnlyList<FormatResponse> Formats = AudioFormat.All
        .Select(f => new FormatResponse(f.Name, f.Extension, f.ContentType, f.Codec, f.Description, f.Lossless, ConversionOptionsParser.Describe(f)))
        .ToList();

    public static IEndpointRouteBuilder MapFormatEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/formats", () => TypedResults.Ok(Formats))
            .WithTags("Formats").AllowAnonymous().WithSummary("The formats a task can ask for, with each one's options described for machines");
        return routes;
    }
}
