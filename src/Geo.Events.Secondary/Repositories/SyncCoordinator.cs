namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Coalesces the push events of one repository (<see cref="RepositoryId"/>) inside this instance. The first
/// event that finds no sync waiting schedules one and runs it; events that arrive while it is still waiting
/// (for the coalesce window, a fetch slot or the repository's lock) join it and simply await its outcome,
/// holding neither a database connection nor a lock. The scheduled sync reads the registry only after it closed itself to
/// joiners, so every joiner's event (noted in the registry before it joined) is covered by that fetch.
/// </summary>
public sealed class SyncCoordinator
{
    private readonly Lock _gate = new();
    private readonly Dictionary<RepositoryId, Scheduled> _waiting = [];

    /// <summary>
    /// Runs <paramref name="sync"/> for the repository, or joins the one already waiting. The sync must call
    /// the <see cref="Action"/> it is given right before it reads what it covers.
    /// </summary>
    /// <returns>True when this caller ran the sync, false when it joined another.</returns>
    public async Task<bool> RunAsync(RepositoryId repository, Func<Action, Task> sync)
    {
        Scheduled scheduled;
        var owner = false;
        lock (_gate)
        {
            if (!_waiting.TryGetValue(repository, out scheduled!))
            {
                scheduled = new Scheduled();
                _waiting[repository] = scheduled;
                owner = true;
            }
        }

        if (!owner)
        {
            await scheduled.Outcome.Task;
            return false;
        }

        void CloseToJoiners()
        {
            lock (_gate)
            {
                if (_waiting.TryGetValue(repository, out var current) && current == scheduled)
                {
                    _waiting.Remove(repository);
                }
            }
        }

        try
        {
            await sync(CloseToJoiners);
            scheduled.Outcome.TrySetResult();
            return true;
        }
        catch (Exception e)
        {
            scheduled.Outcome.TrySetException(e);
            throw;
        }
        finally
        {
            CloseToJoiners(); // also when the sync failed before it closed
        }
    }

    private sealed class Scheduled
    {
        public TaskCompletionSource Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
