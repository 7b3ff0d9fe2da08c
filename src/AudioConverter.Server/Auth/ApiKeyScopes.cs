using System.Security.Claims;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.Authorization;

namespace AudioConverter.Server.Auth;

/// <summary>
/// Which scope each route group needs when the caller is an API key, and the check that answers 403 naming the missing scope.
/// Tokens from a login are not limited by scopes. Routes not listed here (key management among them) need a login token.
/// </summary>
public static class ApiKeyScopes
{
    public const string TasksRead = "tasks:read";
    public const string TasksWrite = "tasks:write";
    public const string Presets = "presets";
    public const string Webhooks = "webhooks";
    public const string ForbiddenType = "/problems/forbidden";

    /// <summary>The scope a key may be given.</summary>
    public static readonly IReadOnlyList<string> All = [TasksRead, TasksWrite, Presets, Webhooks];

    /// <summary>Any valid key may use the route (its own account's details).</summary>
    private const string AnyKey = "";

    /// <summary>The scope a route needs: null when only a login token may use it, empty when any key may.</summary>
    public static string? Required(string method, string routePattern)
    {
        var path = routePattern.TrimEnd('/');
        bool Under(string prefix) => path.Equals(prefix, StringComparison.OrdinalIgnoreCase) || path.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase);
        var reads = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        if (Under("/api/tasks/archive"))
        {
            return TasksRead;
        }

        if (Under("/api/tasks") || Under("/api/files") || Under("/api/download"))
        {
            return reads ? TasksRead : TasksWrite;
        }

        if (Under("/api/events"))
        {
            return TasksRead;
        }

        if (Under("/api/presets"))
        {
            return Presets;
        }

        if (Under("/api/webhooks"))
        {
            return Webhooks;
        }

        if (Under("/api/me"))
        {
            return AnyKey;
        }

        return null;
    }

    /// <summary>Between authentication and authorization: a key outside its scopes gets 403 before the endpoint runs.</summary>
    public static IApplicationBuilder UseApiKeyScopes(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.User.FindFirstValue(ApiKeyAuthenticationHandler.MethodClaim) != ApiKeyAuthenticationHandler.MethodValue
            || context.GetEndpoint() is not RouteEndpoint endpoint
            || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null
            || endpoint.Metadata.GetMetadata<IAuthorizeData>() is null)
        {
            await next(context);
            return;
        }

        var scope = Required(context.Request.Method, endpoint.RoutePattern.RawText ?? context.Request.Path.Value ?? "");
        if (scope is { Length: 0 } || (scope is not null && context.User.HasClaim(ApiKeyAuthenticationHandler.ScopeClaim, scope)))
        {
            await next(context);
            return;
        }

        var detail = scope is null
            ? $"{context.Request.Method} {context.Request.Path} needs a login token (POST /api/auth/login); API keys cannot use it."
            : $"This API key lacks the scope '{scope}', which {context.Request.Method} {context.Request.Path} needs; create a key with that scope.";
        var problem = Problems.Details(StatusCodes.Status403Forbidden, "Forbidden.", detail, ForbiddenType);
        if (scope is not null)
        {
            problem.Extensions["scope"] = scope;
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    });
}
