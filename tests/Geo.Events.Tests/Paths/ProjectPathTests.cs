using Geo.Events.Core.Paths;

namespace Geo.Events.Tests.Paths;

[TestClass]
public sealed class ProjectPathTests
{
    [TestMethod]
    [DataRow("group/project")]
    [DataRow("group/sub.group/my-project_2")]
    [DataRow("_under/score")]
    [DataRow("group/.hidden")] // GitLab's PATH_REGEX_STR lets a path start with '.' (legacy paths)
    [DataRow(".dotted-group/project")]
    [DataRow("group/...")]
    [DataRow("group/project.")]
    [DataRow("docs/handbook.wiki")] // a project, when its namespace has no 'handbook' (HasWiki#check_wiki_path_conflict)
    public void GitLabStylePathsAreAccepted(string path) => Assert.IsNull(ProjectPath.Problem(path));

    [TestMethod]
    [DataRow("", "empty")]
    [DataRow("project", "namespace/project")]
    [DataRow("../etc/passwd", "segment '..'")]
    [DataRow("group/../x", "segment '..'")]
    [DataRow("/abs/path", "empty segment")]
    [DataRow("group//project", "empty segment")]
    [DataRow("group/project/", "empty segment")]
    [DataRow("group\\project", "namespace/project")]
    [DataRow("group/sub\\project", "segment")]
    [DataRow("group/.", "segment '.'")]
    [DataRow("./project", "segment '.'")]
    [DataRow(".tmp/project", "stages mirrors")]
    [DataRow("group/-dash", "segment '-dash'")]
    [DataRow("group/pro\u0000ject", "segment")]
    [DataRow("group/proj\u0435ct", "segment")]
    [DataRow("group/%2e%2e", "segment")]
    [DataRow("group/project.git", ".git")]
    [DataRow("group/project.atom", ".atom")]
    [DataRow("group/project\n", "segment")] // .NET's $ matches before a final newline: the pattern must end in \z
    [DataRow("group\n/project", "segment")]
    public void OddPathsAreRefusedWithAReason(string path, string reason)
    {
        var problem = ProjectPath.Problem(path);
        Assert.IsNotNull(problem, path);
        StringAssert.Contains(problem, reason);
    }

    [TestMethod]
    public void OverlongPathsAreRefused()
    {
        StringAssert.Contains(ProjectPath.Problem("g/" + new string('a', 256)), "longer than 255");
        StringAssert.Contains(ProjectPath.Problem(string.Join('/', Enumerable.Repeat("abcdefgh", 200))), "longer than 1024");
        StringAssert.Contains(ProjectPath.Problem(string.Join('/', Enumerable.Repeat("a", 23))), "more than 22 segments");
        StringAssert.Contains(ProjectPath.NamespaceProblem(string.Join('/', Enumerable.Repeat("a", 22))), "more than 21 segments");
    }

    [TestMethod]
    public void TheDeepestNestingGitLabAllowsIsAccepted()
    {
        // 20 ancestor groups (Namespace::NUMBER_OF_ANCESTORS_ALLOWED), the group itself, and the project: 22 segments.
        var group = string.Join('/', Enumerable.Range(1, 21).Select(i => $"level{i}"));
        Assert.IsNull(ProjectPath.NamespaceProblem(group));
        Assert.IsNull(ProjectPath.Problem(group + "/project"));
    }

    [TestMethod]
    public void ResolveUnderStaysInsideTheRoot()
    {
        var root = Directory.CreateTempSubdirectory("geo-paths-").FullName;
        try
        {
            Assert.AreEqual(Path.Combine(root, "group", "project.git"), ProjectPath.ResolveUnder(root, "group/project", ".git"));
            Assert.ThrowsExactly<InvalidProjectPathException>(() => ProjectPath.ResolveUnder(root, "../outside", ".git"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void ResolveUnderRefusesASymbolicLinkInsideTheRoot()
    {
        var root = Directory.CreateTempSubdirectory("geo-paths-").FullName;
        var outside = Directory.CreateTempSubdirectory("geo-outside-").FullName;
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(root, "group"), outside);
            var e = Assert.ThrowsExactly<InvalidProjectPathException>(() => ProjectPath.ResolveUnder(root, "group/project", ".git"));
            StringAssert.Contains(e.Reason, "symbolic link");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            Directory.Delete(outside, recursive: true);
        }
    }
}
