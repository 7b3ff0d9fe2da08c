using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;

namespace AudioConverter.Server.Hosting;

/// <summary>
/// Turns exceptions into problem+json without a stack: a backend that is away (database, broker, bucket)
/// is 503 with Retry-After, a client that sent a bad request is 400, anything else 500.
/// </summary>
public sealed partial class UnavailableExceptionHandler(IProblemDetailsService problems, ILogger<UnavailableExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        int status;
        string title, detail, type;
        if (exception is BadHttpRequestException bad)
        {
            status = bad.StatusCode;
            title = "Bad request.";
            detail = bad.Message;
            type = status == StatusCodes.Status413PayloadTooLarge ? Problems.TooLargeType : Problems.ValidationType;
        }
        else if (IsUnavailable(exception))
        {
            LogUnavailable(logger, exception.GetType().Name, exception.Message);
            status = StatusCodes.Status503ServiceUnavailable;
            title = "Service unavailable.";
            detail = "A service this request needs is unavailable right now; try again in a few seconds.";
            type = Problems.UnavailableType;
            httpContext.Response.Headers.RetryAfter = "5";
        }
        else
        {
            LogUnexpected(logger, exception);
            status = StatusCodes.Status500InternalServerError;
            title = "Internal error.";
            detail = "Something went wrong on our side; the error was logged.";
            type = Problems.InternalType;
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = Problems.Details(status, title, detail, type),
            Exception = exception,
        });
    }

    /// <summary>
    /// Backend failures: database errors, timeouts, refused connections, and the ports' own exception, to which each
    /// adapter maps its technology's failures (the RabbitMQ client's, the AWS SDK's, Pub/Sub's answers).
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException or TimeoutException or System.Net.Sockets.SocketException or HttpRequestException or IOException
                or Infrastructure.BackendUnreachableException)
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A backend is unavailable ({ExceptionType}): {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string exceptionType, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);
}
