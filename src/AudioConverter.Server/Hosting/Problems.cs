using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AudioConverter.Server.Hosting;

/// <summary>Every error is problem+json with a stable type and a message a person can act on.</summary>
public static class Problems
{
    public const string ValidationType = "/problems/validation";
    public const string NotFoundType = "/problems/not-found";
    public const string ConflictType = "/problems/conflict";
    public const string UnauthorizedType = "/problems/unauthorized";
    public const string TooLargeType = "/problems/too-large";
    public const string TooManyRequestsType = "/problems/too-many-requests";
    public const string UnavailableType = "/problems/unavailable";
    public const string InternalType = "/problems/internal";

    public static ValidationProblem Validation(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: message, title: "The request is not valid.", type: ValidationType);

    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail: string.Join(" ", errors.Values.SelectMany(v => v)), title: "The request is not valid.", type: ValidationType);

    public static ProblemHttpResult NotFound(string what = "task") =>
        TypedResults.Problem($"No {what} with that identifier exists for this account.", statusCode: StatusCodes.Status404NotFound, title: "Not found.", type: NotFoundType);

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict.", type: ConflictType);

    public static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem($"The file is larger than the limit of {limit:N0} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large.", type: TooLargeType);

    /// <summary>429 with a Retry-After header saying when trying again makes sense.</summary>
    public static ProblemHttpResult TooManyRequests(HttpResponse response, string detail, TimeSpan retryAfter)
    {
        response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TooManyRequests(detail);
    }

    private static ProblemHttpResult TooManyRequests(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests.", type: TooManyRequestsType);

    public static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized.", type: UnauthorizedType);

    public static ProblemDetails Details(int status, string title, string detail, string type) =>
        new() { Status = status, Title = title, Detail = detail, Type = type };
}
