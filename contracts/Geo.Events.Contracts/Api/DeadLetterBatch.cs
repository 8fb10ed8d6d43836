namespace Geo.Events.Contracts.Api;

/// <summary>
/// One replay, delete or restore as the audit history keeps it (<c>geo-admin dlq history</c>,
/// <c>GET /api/v1/admin/dead-letters/history</c>): who, when, how many, with what outcomes.
/// </summary>
/// <param name="Actor">geo-admin's GEO_ADMIN_ACTOR (or user@host) when it ran on the database, <c>admin-token:&lt;name&gt;</c> through the API.</param>
public sealed record DeadLetterBatch(Guid BatchId, string Action, string Actor, DateTime StartedAt, DateTime EndedAt, long Count, string Outcomes);
