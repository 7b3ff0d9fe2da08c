using Microsoft.AspNetCore.Http;

namespace AudioConverter.Server.Hosting;

/// <summary>Messages for the problems the framework answers by itself (no route, wrong method, wrong media type).</summary>
public static class ProblemDefaults
{
    public static void Describe(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Detail is not null)
        {
            return;
        }

        var request = context.HttpContext.Request;
        problem.Detail = problem.Status switch
        {
            StatusCodes.Status404NotFound => $"Nothing is served at {request.Method} {request.Path}; see /docs for the API.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Method} is not allowed on {request.Path}; see /docs for the API.",
            StatusCodes.Status415UnsupportedMediaType => request.Path.StartsWithSegments("/api/tasks") && HttpMethods.IsPost(request.Method)
                ? "Send the upload as multipart/form-data with the parts 'fileName' (the audio file) and 'newFormat'."
                : "Send the body as JSON with 'Content-Type: application/json'.",
            _ => null,
        };
        problem.Type ??= problem.Status switch
        {
            StatusCodes.Status404NotFound => Problems.NotFoundType,
            StatusCodes.Status415UnsupportedMediaType or StatusCodes.Status405MethodNotAllowed or StatusCodes.Status400BadRequest => Problems.ValidationType,
            _ => null,
        };
    }
}
