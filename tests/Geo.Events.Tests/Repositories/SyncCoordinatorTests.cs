using Geo.Events.Contracts;
using Geo.Events.Secondary.Locking;
using Geo.Events.Secondary.Repositories;

namespace Geo.Events.Tests.Repositories;

[TestClass]
public sealed class SyncCoordinatorTests
{
    private static readonly RepositoryId Project1 = new(1, RepositoryKind.Project);
    private static readonly RepositoryId Project2 = new(2, RepositoryKind.Project);

    [TestMethod]
    public async Task CallersWhileASyncWaitsJoinItAndShareItsOutcome()
    {
        var coordinator = new SyncCoordinator();
        var release = new TaskCompletionSource();
        var runs = 0;
        var owner = coordinator.RunAsync(Project1, async close =>
        {
            Interlocked.Increment(ref runs);
            await release.Task; // still waiting: not closed to joiners
            close();
        });
        var joiners = Enumerable.Range(0, 10).Select(_ => coordinator.RunAsync(Project1, _ => throw new AssertFailedException("a joiner ran a sync"))).ToArray();

        release.SetResult();
        Assert.IsTrue(await owner);
        CollectionAssert.AreEqual(Enumerable.Repeat(false, 10).ToArray(), await Task.WhenAll(joiners));
        Assert.AreEqual(1, runs);
    }

    [TestMethod]
    public async Task ACallerAfterTheSyncClosedSchedulesTheNextOne()
    {
        var coordinator = new SyncCoordinator();
        var closed = new TaskCompletionSource();
        var finish = new TaskCompletionSource();
        var first = coordinator.RunAsync(Project1, async close =>
        {
            close();
            closed.SetResult();
            await finish.Task;
        });
        await closed.Task;

        var second = coordinator.RunAsync(Project1, _ => Task.CompletedTask);
        Assert.IsTrue(await second, "an event arriving after the sync read its coverage must get a sync of its own");
        finish.SetResult();
        Assert.IsTrue(await first);
    }

    [TestMethod]
    public async Task JoinersSeeTheSyncsFailureAndOtherRepositoriesAreIndependent()
    {
        var coordinator = new SyncCoordinator();
        var release = new TaskCompletionSource();
        var failing = coordinator.RunAsync(Project1, async _ =>
        {
            await release.Task;
            throw new InvalidOperationException("fetch failed");
        });
        var joiner = coordinator.RunAsync(Project1, _ => Task.CompletedTask);
        var other = coordinator.RunAsync(Project2, _ => Task.CompletedTask);

        Assert.IsTrue(await other);
        release.SetResult();
        await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => failing);
        await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => joiner);
        Assert.IsTrue(await coordinator.RunAsync(Project1, _ => Task.CompletedTask), "a failed sync must not leave the repository blocked");
    }

    [TestMethod]
    public async Task AProjectAndItsWikiAreSyncedIndependently()
    {
        var coordinator = new SyncCoordinator();
        var release = new TaskCompletionSource();
        var project = coordinator.RunAsync(Project1, _ => release.Task);
        Assert.IsTrue(await coordinator.RunAsync(Project1 with { Kind = RepositoryKind.Wiki }, _ => Task.CompletedTask), "the wiki joined the project's sync");
        release.SetResult();
        Assert.IsTrue(await project);
    }

    [TestMethod]
    public void TheLockKeyOfAProjectAndItsWikiIsTheFirstVersionsAndLaterKindsNeverShareOne()
    {
        // Instances of different versions must lock the same key for one repository.
        Assert.AreEqual((AdvisoryLock.RepositorySpace, 15L), RepositoryLock.Key(new RepositoryId(7, RepositoryKind.Wiki)));
        Assert.AreEqual((AdvisoryLock.RepositorySpace, 14L), RepositoryLock.Key(new RepositoryId(7, RepositoryKind.Project)));

        // A design repository, a snippet and a group wiki with the same owner id as a project, or as each other, lock apart.
        var keys = new HashSet<(int, long)>();
        foreach (var id in new long[] { 7, 8, 14, 15 })
        {
            foreach (var kind in Enum.GetValues<RepositoryKind>())
            {
                Assert.IsTrue(keys.Add(RepositoryLock.Key(new RepositoryId(id, kind))), $"{kind} {id} shares a lock");
            }
        }

        Assert.IsTrue(Enum.GetValues<RepositoryKind>().All(k => RepositoryLock.Key(new RepositoryId(1, k)).Space != AdvisoryLock.FileSpace));
    }
}
