using Geo.Events.Contracts;
using Geo.Events.Secondary.Serving;

namespace Geo.Events.Tests.Serving;

[TestClass]
public sealed class ServableMirrorsTests
{
    [TestMethod]
    [DataRow("/acme/secret.git", "acme/secret", RepositoryKind.Project, "acme/secret.git")]
    [DataRow("acme/secret", "acme/secret", RepositoryKind.Project, "acme/secret.git")]
    [DataRow("/acme/secret.wiki.git", "acme/secret", RepositoryKind.Wiki, "acme/secret.wiki.git")]
    [DataRow("/acme.wiki.git", "acme", RepositoryKind.Wiki, "acme.wiki.git")]
    [DataRow("/acme/secret.design.git", "acme/secret", RepositoryKind.Design, "acme/secret.design.git")]
    [DataRow("/snippets/42.git", "snippets/42", RepositoryKind.Snippet, "snippets/42.git")]
    [DataRow("acme/secret/snippets/7.git", "acme/secret/snippets/7", RepositoryKind.Snippet, "acme/secret/snippets/7.git")]
    public void EveryKindOfGitLabCloneUrlNamesItsRepository(string url, string path, RepositoryKind kind, string gitName)
    {
        var named = ServableMirrors.Parse(url);
        Assert.IsNotNull(named);
        Assert.AreEqual(path, named.Value.Path);
        Assert.AreEqual(kind, named.Value.Kind);
        Assert.AreEqual(gitName, named.Value.GitName);
    }

    [TestMethod]
    [DataRow("/../etc/passwd.git")]
    [DataRow("/acme/../x.git")]
    [DataRow("/acme.design.git")]
    [DataRow("/.wiki.git")]
    [DataRow("/@snippets/1.git")]
    public void WhatNoGitLabRepositoryCouldBeIsRefused(string url) => Assert.IsNull(ServableMirrors.Parse(url));

    [TestMethod]
    public void AWikiUrlMayNameAProjectsOrAGroupsWiki() =>
        CollectionAssert.AreEqual(new short[] { (short)RepositoryKind.Wiki, (short)RepositoryKind.GroupWiki }, ServableMirrors.Parse("acme/secret.wiki.git")!.Value.Kinds);
}
