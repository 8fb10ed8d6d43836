using Geo.Events.Contracts;
using Geo.Events.Core;
using Geo.Events.Core.Repositories;

namespace Geo.Events.Secondary.Repositories;

/// <summary>An event about a repository kind a newer geo-primary knows and this geo-secondary does not: no retry helps.</summary>
public sealed class UnknownRepositoryKindException(RepositoryKind kind)
    : PermanentFailureException($"repository kind {(int)kind} is newer than this geo-secondary: upgrade it to mirror such repositories");

/// <summary>
/// A <see cref="RepositoryDestroyed"/> about a project's repository, wiki or design repository: those go only with
/// their project's project_destroy, through the mass-destruction guard.
/// </summary>
public sealed class UnguardedDestroyRefusedException(RepositoryKind kind)
    : PermanentFailureException($"a {RepositoryLayout.Label(kind)} repository is removed only with its project's project_destroy, not by RepositoryDestroyed");
