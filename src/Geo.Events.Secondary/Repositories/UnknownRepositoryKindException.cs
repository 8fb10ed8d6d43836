using Geo.Events.Contracts;
using Geo.Events.Core;

namespace Geo.Events.Secondary.Repositories;

/// <summary>An event about a repository kind a newer geo-primary knows and this geo-secondary does not: no retry helps.</summary>
public sealed class UnknownRepositoryKindException(RepositoryKind kind)
    : PermanentFailureException($"repository kind {(int)kind} is newer than this geo-secondary: upgrade it to mirror such repositories");
