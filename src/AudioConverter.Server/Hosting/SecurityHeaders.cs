namespace AudioConverter.Server.Hosting;

/// <summary>
/// Headers that make a browser treat every response as exactly what it says it is: no sniffing, no framing,
/// no referrer, and a content security policy that allows only the app's own scripts and styles.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>The policy of the web page and of every API response.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'";

    /// <summary>The interactive API docs (Scalar) start with an inline module script and inject styles, so only that path gets them.</summary>
    public const string DocsContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'";

    public const string DocsPath = "/docs";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            // Set when the response starts: the exception handler clears headers set any earlier.
            context.Response.OnStarting(static state => Apply((HttpContext)state), context);
            return next(context);
        });

    private static Task Apply(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments(DocsPath, StringComparison.OrdinalIgnoreCase)
            ? DocsContentSecurityPolicy
            : ContentSecurityPolicy;
        return Task.CompletedTask;
    }
}
