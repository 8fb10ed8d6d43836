using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>Bounds how many clones and fetches this instance runs at once (Secondary:ConcurrentSyncs).</summary>
public sealed class SyncSlots(IOptions<SyncOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.ConcurrentSyncs, options.Value.ConcurrentSyncs);

    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        return new Slot(_slots);
    }

    public void Dispose() => _slots.Dispose();

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
