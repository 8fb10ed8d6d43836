using Geo.Events.Contracts;
using Geo.Events.Core.Repositories;

namespace Geo.Events.Tests.Repositories;

/// <summary>GitLab's storage paths of every repository type, and the secondary's mirror names, from the one table.</summary>
[TestClass]
public sealed class RepositoryLayoutTests
{
    // sha256("1"), as in GitLab's documentation of hashed storage.
    private const string One = "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b";

    [TestMethod]
    public void EveryKindIsStoredWhereGitLabStoresIt()
    {
        Assert.AreEqual($"@hashed/6b/86/{One}.git", RepositoryLayout.HashedPath(RepositoryKind.Project, 1));
        Assert.AreEqual($"@hashed/6b/86/{One}.wiki.git", RepositoryLayout.HashedPath(RepositoryKind.Wiki, 1));
        Assert.AreEqual($"@hashed/6b/86/{One}.design.git", RepositoryLayout.HashedPath(RepositoryKind.Design, 1));
        Assert.AreEqual($"@snippets/6b/86/{One}.git", RepositoryLayout.HashedPath(RepositoryKind.Snippet, 1));
        Assert.AreEqual($"@groups/6b/86/{One}.wiki.git", RepositoryLayout.HashedPath(RepositoryKind.GroupWiki, 1));
    }

    [TestMethod]
    public void EveryStoredPathIsClassifiedBackToItsKind()
    {
        foreach (var kind in RepositoryLayout.All)
        {
            Assert.AreEqual((kind, One, (string?)null), RepositoryLayout.Classify(RepositoryLayout.HashedPath(kind, 1)), kind.ToString());
        }

        Assert.AreEqual((RepositoryKind.Design, (string?)null, "group/project"), RepositoryLayout.Classify("group/project.design.git"));
        Assert.AreEqual((RepositoryKind.Wiki, (string?)null, "group/project"), RepositoryLayout.Classify("group/project.wiki.git"));
        Assert.AreEqual((RepositoryKind.Project, (string?)null, "group/project"), RepositoryLayout.Classify("group/project.git"));
        Assert.IsNull(RepositoryLayout.Classify($"@pools/6b/86/{One}.git"));
        Assert.IsNull(RepositoryLayout.Classify($"@groups/6b/86/{One}.git"), "a group has only a wiki");
        Assert.IsNull(RepositoryLayout.Classify($"@snippets/6b/86/{One}.wiki.git"));
        Assert.IsNull(RepositoryLayout.Classify($"@hashed/00/86/{One}.git"), "the folders are the hash's first bytes");
    }

    [TestMethod]
    public void MirrorsAreNamedAsTheArchitectureSays()
    {
        Assert.AreEqual("a/b.git", RepositoryLayout.MirrorName(RepositoryKind.Project, 3, "a/b"));
        Assert.AreEqual("a/b.wiki.git", RepositoryLayout.MirrorName(RepositoryKind.Wiki, 3, "a/b"));
        Assert.AreEqual("a/b.design.git", RepositoryLayout.MirrorName(RepositoryKind.Design, 3, "a/b"));
        Assert.AreEqual("a.wiki.git", RepositoryLayout.MirrorName(RepositoryKind.GroupWiki, 3, "a"));
        Assert.AreEqual("@snippets/3.git", RepositoryLayout.MirrorName(RepositoryKind.Snippet, 3, "a/b/snippets/3"));
    }

    [TestMethod]
    public void PathsComeFromGitLabsFullPathWithoutTheKindsSuffix()
    {
        Assert.AreEqual("a/b", RepositoryLayout.PathFromConfig("a/b.design", RepositoryKind.Design));
        Assert.AreEqual("a", RepositoryLayout.PathFromConfig("a.wiki", RepositoryKind.GroupWiki));
        Assert.AreEqual("snippets/9", RepositoryLayout.PathFromConfig("snippets/9", RepositoryKind.Snippet));
        Assert.IsNull(RepositoryLayout.PathFromConfig("a.wiki", RepositoryKind.Wiki), "a project path has a namespace");
    }
}
