using System.Net.Http.Headers;
using System.Text;

namespace Geo.Events.Primary.Admin;

/// <summary>
/// The admin API's and status page's authentication, as endpoint filters: an admin token as a bearer token; on the
/// status page's (read-only) pages also as the password of HTTP Basic (a browser's login box; the user name is
/// ignored). Basic is refused on the API: a browser resends a cached Basic login with any cross-site form post, so
/// accepting it there would let any web page an operator visits start a backfill in their name. No token or an
/// unknown one: 401; a <c>read</c> token on a route that acts: 403.
/// </summary>
public static class AdminAuth
{
    private const string TokenItem = "geo.admin-token";

    /// <summary>The token that authenticated this request (after the filter ran).</summary>
    public static AdminTokenStore.Token Caller(HttpContext context) => (AdminTokenStore.Token)context.Items[TokenItem]!;

    /// <summary>Who acted, as the audit history records it.</summary>
    public static string Actor(HttpContext context) => $"admin-token:{Caller(context).Name}";

    public static TBuilder RequireAdminToken<TBuilder>(this TBuilder builder, string scope, bool browser = false)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var presented = Presented(http.Request, basic: browser);
            var token = presented is null ? null : await http.RequestServices.GetRequiredService<AdminTokenStore>().FindAsync(presented, http.RequestAborted);
            if (token is null)
            {
                if (browser)
                {
                    http.Response.Headers.WWWAuthenticate = "Basic realm=\"geo-primary\", charset=\"UTF-8\"";
                }

                return Results.Problem(
                    title: presented is null ? "Missing token" : "Wrong token",
                    detail: browser
                        ? "send an admin token as 'Authorization: Bearer <token>' (or as the password of HTTP Basic); create one with 'geo-primary admin-token create'"
                        : "send an admin token as 'Authorization: Bearer <token>' (HTTP Basic is accepted on the /admin pages only); create one with 'geo-primary admin-token create'",
                    statusCode: StatusCodes.Status401Unauthorized);
            }

            if (scope == AdminTokenStore.AdminScope && token.Scope != AdminTokenStore.AdminScope)
            {
                return Results.Problem(title: "Wrong scope", detail: $"admin token '{token.Name}' has scope '{token.Scope}'; this needs scope 'admin'", statusCode: StatusCodes.Status403Forbidden);
            }

            http.Items[TokenItem] = token;
            return await next(context);
        });

    private static string? Presented(HttpRequest request, bool basic)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header) || string.IsNullOrWhiteSpace(header.Parameter))
        {
            return null;
        }

        if (header.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return header.Parameter.Trim();
        }

        if (basic && header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                return colon >= 0 && colon < pair.Length - 1 ? pair[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }
}
