namespace Geo.Events.Contracts.Api;

/// <summary>The answer of <c>GET /api/v1/admin/projects?path=</c>: the project whose latest event names that path.</summary>
public sealed record AdminProject
{
    public required long Id { get; init; }

    public required string Path { get; init; }
}
