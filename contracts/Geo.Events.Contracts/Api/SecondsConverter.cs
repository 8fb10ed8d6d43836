using System.Text.Json;
using System.Text.Json.Serialization;

namespace Geo.Events.Contracts.Api;

/// <summary>
/// A <see cref="TimeSpan"/> that travels as a number of seconds (a JSON double): the heartbeat carried seconds
/// before it was typed, and stored reports, geo-admin and dashboards read them so. In C# it is a TimeSpan.
/// </summary>
public sealed class SecondsConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        TimeSpan.FromSeconds(reader.GetDouble());

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.TotalSeconds);
}
