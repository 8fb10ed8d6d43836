using System.Diagnostics;
using MassTransit.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Geo.Events.Core.Observability;

/// <summary>
/// OpenTelemetry traces that follow one event: the hook's HTTP request, the outbox publish (which restores
/// the request's trace context saved with the event), MassTransit's send and consume (it carries the
/// context in the message headers), on every secondary. Spans are exported over OTLP when the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; without it they are still made, so the context still travels.
/// </summary>
public static class Tracing
{
    public const string SourceName = "Geo.Events";

    public static readonly ActivitySource Source = new(SourceName);

    public static void AddGeoTracing(this WebApplicationBuilder builder, string serviceName)
    {
        StageTrace.AddStageTrace(builder.Services, builder.Configuration); // Observability:StageTrace, off by default
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing =>
            {
                tracing.AddSource(SourceName, DiagnosticHeaders.DefaultListenerName).AddAspNetCoreInstrumentation();
                if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
                {
                    tracing.AddOtlpExporter();
                }
            });
    }

    /// <summary>Starts a span whose parent is a saved W3C traceparent (or none when it is missing or malformed).</summary>
    public static Activity? StartFrom(string name, ActivityKind kind, string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
}
