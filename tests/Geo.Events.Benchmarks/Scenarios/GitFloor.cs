using System.Diagnostics;
using Geo.Events.Testing;
using LibGit2Sharp;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>The floor for a sync: fetching a one-commit delta into a mirror, with LibGit2Sharp and with git.</summary>
public static class GitFloor
{
    public static async Task<(List<double> LibGit2Ms, List<double> GitMs)> OneCommitFetchAsync(string root, int runs)
    {
        using var primary = new BareRepository(Path.Combine(root, "floor", "primary.git"), "floor/primary");
        for (var i = 0; i < 20; i++)
        {
            primary.Push();
        }

        var libgit2Mirror = Path.Combine(root, "floor", "libgit2.git");
        Repository.Init(libgit2Mirror, isBare: true);
        using (var repo = new Repository(libgit2Mirror))
        {
            repo.Network.Remotes.Add("origin", primary.Path, "+refs/*:refs/*");
            Commands.Fetch(repo, "origin", ["+refs/*:refs/*"], new FetchOptions { Prune = true, TagFetchMode = TagFetchMode.None }, null);
        }

        var gitMirror = Path.Combine(root, "floor", "git.git");
        await Shell.RunAsync("git", root, "clone", "-q", "--mirror", primary.Path, gitMirror);

        var libgit2 = new List<double>();
        var git = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            primary.Push();
            var clock = Stopwatch.StartNew();
            using (var repo = new Repository(libgit2Mirror))
            {
                Commands.Fetch(repo, "origin", ["+refs/*:refs/*"], new FetchOptions { Prune = true, TagFetchMode = TagFetchMode.None }, null);
            }

            libgit2.Add(clock.Elapsed.TotalMilliseconds);
            clock.Restart();
            await Shell.RunAsync("git", gitMirror, "fetch", "-q", "--prune", "origin");
            git.Add(clock.Elapsed.TotalMilliseconds);
        }

        return (libgit2, git);
    }
}
