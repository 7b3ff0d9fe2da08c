using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Telemetry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Admission;

/// <summary>
/// On the upload route, before a byte of the body is read: refuses the upload when the backlog is over a limit of
/// <see cref="AdmissionOptions"/> (503 for the global queue or the oldest task's age, 429 for the caller's own queue),
/// with Retry-After, so an overload cannot grow an unbounded queue. Counts accepted uploads and their bytes.
/// </summary>
public sealed partial class AdmissionFilter(BacklogMonitor backlog, IOptions<AdmissionOptions> options, TimeProvider clock, ILogger<AdmissionFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (await RefusalAsync(http, http.RequestAborted) is { } refusal)
        {
            return refusal;
        }

        var result = await next(context);
        if (Accepted(result) is { } inputBytes)
        {
            AudioConverterMetrics.Uploads.Add(1);
            AudioConverterMetrics.UploadBytes.Add(inputBytes);
        }

        return result;
    }

    private async Task<IResult?> RefusalAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var retryAfter = limits.RetryAfter;
        if (limits.MaxQueuedTasks > 0 || limits.MaxOldestTaskAge > TimeSpan.Zero)
        {
            var snapshot = await backlog.GetAsync(cancellationToken);
            if (limits.MaxQueuedTasks > 0 && snapshot.Queued >= limits.MaxQueuedTasks)
            {
                return Refuse(http, "queue", StatusCodes.Status503ServiceUnavailable, retryAfter,
                    $"The service has {snapshot.Queued:N0} tasks waiting for conversion, at its limit of {limits.MaxQueuedTasks:N0}; upload again in {limits.RetryAfterSeconds} seconds.");
            }

            var age = snapshot.OldestAge(clock.GetUtcNow().UtcDateTime);
            if (limits.MaxOldestTaskAge > TimeSpan.Zero && age >= limits.MaxOldestTaskAge)
            {
                return Refuse(http, "age", StatusCodes.Status503ServiceUnavailable, retryAfter,
                    $"Conversions are running behind: the oldest waiting task has waited {age.TotalSeconds:N0} seconds, over the limit of {limits.MaxOldestTaskAgeSeconds:N0}; upload again in {limits.RetryAfterSeconds} seconds.");
            }
        }

        if (limits.MaxQueuedTasksPerUser > 0 && http.User.Identity?.IsAuthenticated == true)
        {
            var userId = CurrentUser.Of(http.User).Id;
            var db = http.RequestServices.GetRequiredService<AppDbContext>();
            var mine = await db.Tasks.CountAsync(t => t.UserId == userId && t.Status == ConversionStatus.Uploaded, cancellationToken);
            if (mine >= limits.MaxQueuedTasksPerUser)
            {
                return Refuse(http, "user", StatusCodes.Status429TooManyRequests, retryAfter,
                    $"You have {mine:N0} tasks waiting for conversion, at the limit of {limits.MaxQueuedTasksPerUser:N0} per user; upload again once some have been converted.");
            }
        }

        return null;
    }

    private ProblemHttpResult Refuse(HttpContext http, string reason, int status, TimeSpan retryAfter, string detail)
    {
        AudioConverterMetrics.AdmissionRefusals.Add(1, new KeyValuePair<string, object?>("reason", reason));
        LogRefused(logger, reason, status);
        http.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return status == StatusCodes.Status429TooManyRequests
            ? TypedResults.Problem(detail, statusCode: status, title: "Too many requests.", type: Problems.TooManyRequestsType)
            : TypedResults.Problem(detail, statusCode: status, title: "Service unavailable.", type: Problems.UnavailableType);
    }

    /// <summary>The stored bytes of an upload the handler accepted (201 with a task), or null for any other answer.</summary>
    private static long? Accepted(object? result)
    {
        while (result is INestedHttpResult nested)
        {
            result = nested.Result;
        }

        return result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status201Created } and IValueHttpResult { Value: Tasks.TaskResponse task }
            ? task.InputBytes
            : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upload refused by admission control ({Reason}): {Status}")]
    private static partial void LogRefused(ILogger logger, string reason, int status);
}
