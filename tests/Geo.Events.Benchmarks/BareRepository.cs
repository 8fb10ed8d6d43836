using LibGit2Sharp;

namespace Geo.Events.Benchmarks;

/// <summary>
/// A repository on "the primary", moved with LibGit2Sharp: a push is a new commit object and a ref update,
/// as git-receive-pack leaves it, without the cost of a git process per push (the benchmark measures the
/// pipeline, not the client).
/// </summary>
public sealed class BareRepository(string path, string pathWithNamespace) : IDisposable
{
    private readonly Repository _repo = Init(path);
    private int _commits;

    public string Path { get; } = path;
    public string PathWithNamespace { get; } = pathWithNamespace;
    public string Head => _repo.Refs["refs/heads/main"]?.TargetIdentifier ?? PrimaryZero;

    public const string PrimaryZero = "0000000000000000000000000000000000000000";

    private static Repository Init(string path)
    {
        Directory.CreateDirectory(path);
        Repository.Init(path, isBare: true);
        var repo = new Repository(path);
        repo.Refs.UpdateTarget("HEAD", "refs/heads/main");
        return repo;
    }

    /// <summary>Adds a commit on main; returns (before, after).</summary>
    public (string Before, string After) Push()
    {
        var before = Head;
        var n = Interlocked.Increment(ref _commits);
        var blob = _repo.ObjectDatabase.CreateBlob(new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"change {n} {Guid.NewGuid()}\n")));
        var tree = new TreeDefinition();
        tree.Add($"file{n % 16}.txt", blob, Mode.NonExecutableFile);
        var parent = before == PrimaryZero ? [] : new[] { _repo.Lookup<Commit>(before) };
        if (parent.Length > 0)
        {
            foreach (var entry in parent[0].Tree.Where(e => e.Name != $"file{n % 16}.txt"))
            {
                tree.Add(entry.Name, entry);
            }
        }

        var signature = new Signature("bench", "bench@example.com", DateTimeOffset.UtcNow);
        var commit = _repo.ObjectDatabase.CreateCommit(signature, signature, $"change {n}", _repo.ObjectDatabase.CreateTree(tree), parent, prettifyMessage: false);
        if (before == PrimaryZero)
        {
            _repo.Refs.Add("refs/heads/main", commit.Id);
        }
        else
        {
            _repo.Refs.UpdateTarget(_repo.Refs["refs/heads/main"], commit.Id);
        }

        return (before, commit.Sha);
    }

    /// <summary>Reads a mirror's ref from its files (loose, then packed-refs): cheap enough to poll.</summary>
    public static string? ReadRef(string gitDir, string name)
    {
        try
        {
            var loose = System.IO.Path.Combine(gitDir, name);
            if (File.Exists(loose))
            {
                return File.ReadAllText(loose).Trim();
            }

            var packed = System.IO.Path.Combine(gitDir, "packed-refs");
            if (File.Exists(packed))
            {
                foreach (var line in File.ReadLines(packed))
                {
                    if (line.EndsWith(" " + name, StringComparison.Ordinal))
                    {
                        return line[..40];
                    }
                }
            }
        }
        catch (IOException)
        {
            // Caught mid-rename: try again on the next poll.
        }

        return null;
    }

    public void Dispose() => _repo.Dispose();
}
