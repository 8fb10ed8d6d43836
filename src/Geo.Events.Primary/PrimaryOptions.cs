using Geo.Events.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Geo.Events.Primary;

/// <summary>Section <c>Primary</c>: geo-primary's own settings.</summary>
public sealed class PrimaryOptions
{
    public const string Section = "Primary";

    /// <summary>
    /// SHA-256 (hex) of the secret token GitLab sends in <c>X-Gitlab-Token</c>. Only the hash is configured:
    /// <c>printf %s "$TOKEN" | sha256sum</c> or <c>geo-primary hash-token</c>.
    /// </summary>
    public string HookTokenSha256 { get; set; } = "";

    /// <summary>
    /// The token the status page presents (Bearer) to each secondary's <c>GET /api/v1/mirrors/{id}</c>; the secondaries
    /// hold its SHA-256 as Secondary:MirrorApiTokenSha256. Empty: the project view cannot ask them.
    /// </summary>
    public string MirrorApiToken { get; set; } = "";

    /// <summary>
    /// SHA-256 (hex) of the registration token secondaries present to <c>POST /api/v1/secondaries</c>.
    /// Empty: self-registration is off and only Primary:Secondaries are known.
    /// </summary>
    public string RegistrationTokenSha256 { get; set; } = "";

    /// <summary>
    /// GitLab's repository storage (e.g. <c>/var/opt/gitlab/git-data/repositories</c>), read for the inventory
    /// that backfill and verification use: legacy <c>group/project.git</c> and hashed <c>@hashed/…</c> layouts.
    /// </summary>
    public string RepositoryRoot { get; set; } = "";

    /// <summary>
    /// More of GitLab's repository storages by name (GitLab's <c>git_data_dirs</c>); Primary:RepositoryRoot is the
    /// storage named <c>default</c>. The change detector walks every one of them.
    /// </summary>
    public Dictionary<string, string> RepositoryStorages { get; set; } = [];

    /// <summary>How often the repository change detector walks the storages; zero turns it off.</summary>
    public TimeSpan RepositoryScanInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the change detector waits for a hook to announce a change it saw before it announces the change
    /// itself (GitLab posts push hooks from Sidekiq, moments after the push). Zero announces at first sight.
    /// </summary>
    public TimeSpan RepositoryHookGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Every repository storage by name, as full paths (Primary:RepositoryRoot as <c>default</c>).</summary>
    public IReadOnlyDictionary<string, string> Storages()
    {
        var storages = RepositoryStorages
            .Where(s => !string.IsNullOrWhiteSpace(s.Value))
            .ToDictionary(s => s.Key, s => Path.GetFullPath(s.Value), StringComparer.Ordinal);
        if (!string.IsNullOrWhiteSpace(RepositoryRoot))
        {
            storages["default"] = Path.GetFullPath(RepositoryRoot);
        }

        return storages;
    }

    /// <summary>
    /// GitLab's file stores by kind (<c>upload</c>, <c>lfs_object</c>, <c>avatar</c>): served to secondaries
    /// (nothing outside them is reachable) and watched for files that appear or disappear.
    /// </summary>
    public Dictionary<string, string> Files { get; set; } = [];

    /// <summary>How often the storage watcher looks at Primary:Files; zero turns the watcher off.</summary>
    public TimeSpan FileScanInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A file must keep its size and modification time this long before the watcher announces it (no half-written files).</summary>
    public TimeSpan FileSettleTime { get; set; } = TimeSpan.FromSeconds(5);

    private IReadOnlyDictionary<Contracts.FileKind, string>? _fileRoots;

    /// <summary>
    /// Primary:Files by kind, as full paths: parsed once, at start by the <see cref="Validator"/> (where a bad kind
    /// name stops the start with its reason), then shared by every request.
    /// </summary>
    public IReadOnlyDictionary<Contracts.FileKind, string> FileRoots() => _fileRoots ??= Files
        .Where(f => !string.IsNullOrWhiteSpace(f.Value))
        .ToDictionary(
            f => Core.Paths.FilePath.Parse(f.Key) ?? throw new InvalidOperationException($"Primary:Files:{f.Key}: the kinds are upload, lfs_object and avatar"),
            f => Path.GetFullPath(f.Value));

    /// <summary>Hashed repositories with no event yet are identified by trying project ids up to this one.</summary>
    public long HashedIdScanLimit { get; set; } = 1_000_000;

    /// <summary>
    /// Largest hook body accepted, in bytes: by default GitLab's own limit on what it sends (25 MiB,
    /// <c>WebHookService::REQUEST_BODY_SIZE_LIMIT</c>), so no body a real GitLab sends is refused.
    /// </summary>
    public long MaxBodyBytes { get; set; } = GitLabMaxBodyBytes;

    /// <summary>The largest hook body GitLab sends: 25 MiB.</summary>
    public const long GitLabMaxBodyBytes = 25 * 1024 * 1024;

    /// <summary>Secondaries whose queues geo-primary declares at start, so none misses an event before it first runs.</summary>
    public List<string> Secondaries { get; set; } = [];

    /// <summary>
    /// Group commit: at most this many hooks that arrive together are recorded in one transaction (one WAL flush); 1
    /// records each hook in its own transaction.
    /// </summary>
    public int IngestBatchSize { get; set; } = 100;

    /// <summary>
    /// How long the ingest writer waits for more hooks before it commits a batch. Zero (the default) does not wait: the
    /// hooks that arrive while one batch commits make the next one.
    /// </summary>
    public TimeSpan IngestBatchWindow { get; set; } = TimeSpan.Zero;

    /// <summary>The most Primary:IngestBatchSize may be.</summary>
    public const int MaxIngestBatchSize = 1000;

    /// <summary>The longest Primary:IngestBatchWindow may be: every hook of a batch waits it before its answer.</summary>
    public static readonly TimeSpan MaxIngestBatchWindow = TimeSpan.FromSeconds(1);

    /// <summary>Rows the outbox dispatcher publishes per round trip.</summary>
    public int DispatchBatchSize { get; set; } = 200;

    /// <summary>How long archived dead letters (geo-admin dlq delete) are kept before they are purged.</summary>
    public TimeSpan DeadLetterArchiveRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the dispatcher looks at the outbox when nothing woke it.</summary>
    public TimeSpan DispatchPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Leader lease (several geo-primary instances on one database): how often an instance that does not lead tries to
    /// take the lease, and how often the leader checks that its lease connection is alive. A killed leader's lease is
    /// free as soon as PostgreSQL sees its connection close, so takeover takes at most about this long.
    /// </summary>
    public TimeSpan LeaderRetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    public sealed class Validator : IValidateOptions<PrimaryOptions>
    {
        public ValidateOptionsResult Validate(string? name, PrimaryOptions options) => GeoOptions.Result(Problems(options));

        private static IEnumerable<string> Problems(PrimaryOptions options)
        {
            if (!IsSha256Hex(options.HookTokenSha256))
            {
                yield return "Primary:HookTokenSha256 must be the 64-character hex SHA-256 of the hook secret token " +
                             "(set GEO_Primary__HookTokenSha256; compute it with: printf %s \"$TOKEN\" | sha256sum)";
            }

            if (options.RegistrationTokenSha256.Trim().Length > 0 && !IsSha256Hex(options.RegistrationTokenSha256))
            {
                yield return "Primary:RegistrationTokenSha256 must be empty (registration off) or the 64-character hex SHA-256 of the registration token";
            }

            if (FileRootsProblem(options) is { } problem)
            {
                yield return problem;
            }

            foreach (var name in options.RepositoryStorages.Keys.Where(n => n.Length is 0 or > 64 || !n.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')))
            {
                yield return $"Primary:RepositoryStorages:{name}: a storage name is ASCII letters, digits, '_' and '-' (at most 64)";
            }

            if (options.RepositoryStorages.TryGetValue("default", out var other) && !string.IsNullOrWhiteSpace(options.RepositoryRoot)
                && Path.GetFullPath(other) != Path.GetFullPath(options.RepositoryRoot))
            {
                yield return "Primary:RepositoryStorages:default differs from Primary:RepositoryRoot, which is the storage named default: set one of them";
            }

            if (options.RepositoryScanInterval < TimeSpan.Zero)
            {
                yield return "Primary:RepositoryScanInterval must be 00:00:00 (off) or a positive time span";
            }

            if (options.IngestBatchSize is < 1 or > MaxIngestBatchSize)
            {
                yield return $"Primary:IngestBatchSize must be between 1 (each hook in its own transaction) and {MaxIngestBatchSize}";
            }

            if (options.IngestBatchWindow < TimeSpan.Zero || options.IngestBatchWindow > MaxIngestBatchWindow)
            {
                yield return "Primary:IngestBatchWindow must be between 00:00:00 (no wait) and 00:00:01: every hook in a batch waits it before its answer";
            }

            if (options.DispatchBatchSize is < 1 or > 10_000)
            {
                yield return "Primary:DispatchBatchSize must be between 1 and 10000";
            }

            if (options.LeaderRetryInterval < TimeSpan.FromMilliseconds(100) || options.LeaderRetryInterval > TimeSpan.FromMinutes(1))
            {
                yield return "Primary:LeaderRetryInterval must be between 00:00:00.1 and 00:01:00";
            }
        }

        private static bool IsSha256Hex(string value) => value.Trim() is { Length: 64 } hex && hex.All(Uri.IsHexDigit);

        private static string? FileRootsProblem(PrimaryOptions options)
        {
            try
            {
                _ = options.FileRoots();
                return null;
            }
            catch (InvalidOperationException e)
            {
                return e.Message;
            }
        }
    }
}
