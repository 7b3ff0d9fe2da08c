using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace AudioConverter.Tests.Web;

/// <summary>
/// Serves every response with the strict policy the page is written for, so a browser test fails on any inline
/// script, inline style or eval. If the server already sends a policy, that one is left alone.
/// </summary>
public sealed class StrictContentSecurityPolicy : IStartupFilter
{
    public const string Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            context.Response.OnStarting(() =>
            {
                if (!context.Response.Headers.ContainsKey("Content-Security-Policy"))
                {
                    context.Response.Headers.ContentSecurityPolicy = Policy;
                }

                return Task.CompletedTask;
            });
            return nextMiddleware(context);
        });
        next(app);
    };
}
