using System.Globalization;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AudioConverter.Server.Auth;

/// <summary>
/// The signed-in user, as a handler parameter (<c>CurrentUser user</c>): bound from the request's principal, whichever
/// scheme signed it in (a JWT, an API key or a signed link all carry the user id as <c>sub</c>).
/// </summary>
public sealed record CurrentUser(long Id)
{
    /// <summary>Minimal APIs call this to bind the parameter; only routes that require authorization take one.</summary>
    public static ValueTask<CurrentUser?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<CurrentUser?>(Of(context.User));

    /// <summary>The user a principal signed in as; for middleware and filters, which have no handler parameters.</summary>
    public static CurrentUser Of(ClaimsPrincipal principal) =>
        new(long.Parse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub) ?? throw new InvalidOperationException("The token has no subject."), CultureInfo.InvariantCulture));
}
