using Geo.Events.Primary.Inventory;

namespace Geo.Events.Tests.Repositories;

[TestClass]
public sealed class InventoryPathTests
{
    private static readonly (long Id, string Old, string New)[] Renames = [(10, "a", "b"), (20, "b/sub", "c"), (30, "x", "y")];

    [TestMethod]
    [DataRow("a/p", 5L, "b/p")]        // a → b (10); b/sub (20) does not cover b/p
    [DataRow("a/sub/p", 5L, "c/p")]    // a/sub/p → b/sub/p (10) → c/p (20)
    [DataRow("a/sub/p", 15L, "a/sub/p")] // named after the first rename: only later ones apply, and they do not match
    [DataRow("ab/p", 5L, "ab/p")]      // a group whose name merely starts the same is not moved
    [DataRow("b/sub/p", 25L, "b/sub/p")]
    public void LaterGroupRenamesMoveTheProject(string path, long namedAt, string expected) =>
        Assert.AreEqual(expected, ProjectInventory.FollowGroupRenames(path, namedAt, Renames));
}
