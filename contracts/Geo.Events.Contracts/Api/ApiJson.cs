using System.Text.Json;

namespace Geo.Events.Contracts.Api;

/// <summary>
/// How the records in this folder look on the wire between geo-primary, geo-secondary and geo-admin: camelCase
/// property names, as ASP.NET Core's minimal APIs write them (<see cref="JsonSerializerDefaults.Web"/>). Every
/// sender and reader of these bodies uses these options, so a field's name is decided here and nowhere else.
/// </summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
