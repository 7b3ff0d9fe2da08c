using AudioConverter.Core.Tasks;

namespace AudioConverter.Server.Hosting;

public static class FormatEndpoints
{
    public sealed record FormatResponse(string Name, string Extension, string ContentType, string Codec, string Description);

    public static IEndpointRouteBuilder MapFormatEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/formats", () => TypedResults.Ok(AudioFormat.All.Select(f => new FormatResponse(f.Name, f.Extension, f.ContentType, f.Codec, f.Description))))
            .WithTags("Formats").RequireAuthorization().WithSummary("The formats a task can ask for");
        return routes;
    }
}
