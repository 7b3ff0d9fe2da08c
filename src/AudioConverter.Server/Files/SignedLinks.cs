using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AudioConverter.Server.Files;

public sealed record LinkRequest(string? Path);

public sealed record LinkResponse(string Url, DateTimeOffset ExpiresAt);

/// <summary>
/// Short-lived signed links, so a browser can stream a download or play a file itself (an &lt;a download&gt; or an
/// &lt;audio src&gt; cannot send the Authorization header). <c>POST /api/links {path}</c> signs one GET of one of the
/// caller's file routes; the link works for <see cref="Lifetime"/>, for that exact path and query only, as that user.
/// Signed with ASP.NET Core Data Protection: API processes behind one address must share its key ring.
/// </summary>
public static partial class SignedLinks
{
    public const string QueryName = "link";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    private const string Purpose = "AudioConverter.SignedLinks.v1";

    public static IEndpointRouteBuilder MapSignedLinkEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/links", CreateAsync).WithTags("Files").RequireAuthorization()
            .WithSummary("A link, valid for a few minutes, that downloads one of the caller's files without the Authorization header");
        return routes;
    }

    /// <summary>After authentication: a GET carrying a valid link acts as the user who asked for it, on that path only.</summary>
    public static IApplicationBuilder UseSignedLinks(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if ((HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            && context.Request.Query.TryGetValue(QueryName, out var link) && link.Count == 1 && context.User.Identity?.IsAuthenticated != true)
        {
            var protector = Protector(context.RequestServices);
            var target = context.Request.Path.Value + Without(context.Request.QueryString.Value);
            try
            {
                var payload = protector.Unprotect(link[0]!, out _);
                var (userId, path) = (payload[..payload.IndexOf('\n', StringComparison.Ordinal)], payload[(payload.IndexOf('\n', StringComparison.Ordinal) + 1)..]);
                if (path == target)
                {
                    context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, userId)], "SignedLink"));
                }
            }
            catch (CryptographicException)
            {
                // Expired, tampered with or from another key ring: the request stays anonymous and gets its 401.
            }
        }

        await next(context);
    });

    private static Results<Ok<LinkResponse>, ValidationProblem> CreateAsync(LinkRequest body, CurrentUser user, HttpContext context, TimeProvider clock)
    {
        if (body.Path is null || body.Path.Length > 4000 || !Signable().IsMatch(body.Path))
        {
            return Problems.Validation("path", "Only a file route can be linked: /api/tasks/{id}/original, /api/tasks/{id}/converted or /api/tasks/archive?ids=1,2,3.");
        }

        var userId = user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var expires = clock.GetUtcNow() + Lifetime;
        var token = Protector(context.RequestServices).Protect(userId + "\n" + body.Path, expires);
        var separator = body.Path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return TypedResults.Ok(new LinkResponse($"{body.Path}{separator}{QueryName}={Uri.EscapeDataString(token)}", expires));
    }

    private static ITimeLimitedDataProtector Protector(IServiceProvider services) =>
        services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).ToTimeLimitedDataProtector();

    /// <summary>The query without the link parameter (which is always the last one a signed URL adds).</summary>
    private static string Without(string? query)
    {
        if (string.IsNullOrEmpty(query))
        {
            return "";
        }

        var at = query.LastIndexOf(QueryName + "=", StringComparison.Ordinal);
        return at <= 0 ? "" : query[..(at - 1)];
    }

    [GeneratedRegex(@"^/api/tasks/(\d{1,19}/(original|converted)|archive\?ids=\d{1,19}(,\d{1,19}){0,199})$", RegexOptions.CultureInvariant)]
    private static partial Regex Signable();
}
