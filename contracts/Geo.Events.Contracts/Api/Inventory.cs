namespace Geo.Events.Contracts.Api;

/// <summary>
/// One project in geo-primary's inventory (<c>GET /api/v1/secondaries/{name}/inventory/projects</c>): what backfill
/// and verification compare a mirror with.
/// </summary>
public sealed record InventoryProject
{
    /// <summary>GitLab's project id.</summary>
    public required long Id { get; init; }

    /// <summary>The project's current path with namespace, as the primary knows it.</summary>
    public required string Path { get; init; }

    /// <summary>The refs checksum of the primary's repository; null when geo-primary cannot read it right now.</summary>
    public required string? Checksum { get; init; }
}

/// <summary>A page of the inventory, in project id order; <see cref="Next"/> is the cursor for the next page.</summary>
public sealed record InventoryPage
{
    public required IReadOnlyList<InventoryProject> Projects { get; init; }

    /// <summary>The <c>after</c> of the next page; null on the last page.</summary>
    public required long? Next { get; init; }

    /// <summary>The newest event recorded before the checksums were computed: a sync that covers it sees at least this state.</summary>
    public required long Sequence { get; init; }

    /// <summary>Projects in the secondary's namespaces, over all pages.</summary>
    public required int Total { get; init; }

    /// <summary>Repositories on disk whose project id geo-primary cannot tell (legacy layout, no event yet).</summary>
    public required int Unidentified { get; init; }
}

/// <summary>One project looked up by id (<c>GET …/inventory/projects/{id}</c>), with the sequence its checksum reflects.</summary>
public sealed record InventoryEntry
{
    public required InventoryProject Project { get; init; }

    public required long Sequence { get; init; }
}
