namespace Geo.Events.Secondary;

/// <summary>Section <c>Secondary</c>: who this secondary is and where it keeps its mirrors.</summary>
public sealed class SecondaryOptions
{
    public const string Section = "Secondary";

    /// <summary>The site's name (a DNS label); its queue is <c>geo.secondary.&lt;Name&gt;</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>
    /// Folder of the bare mirrors: stored by project id under <c>@hashed/</c>, each reached by a link at
    /// <c>&lt;root&gt;/group/project.git</c> (see MirrorStore).
    /// </summary>
    public string MirrorRoot { get; set; } = "";

    /// <summary>
    /// Base URL of the primary's repositories; a mirror's remote is this plus the validated project path plus
    /// <c>.git</c>. An absolute folder, <c>file://</c>, <c>http(s)://</c> or <c>ssh://</c>.
    /// </summary>
    public string PrimaryGitUrl { get; set; } = "";

    /// <summary>For HTTP(S) remotes: user name and password or token (e.g. a GitLab admin's personal access token).</summary>
    public string? GitUsername { get; set; }

    public string? GitPassword { get; set; }

    /// <summary>How long connecting to the primary's git server may take before the fetch fails and is retried.</summary>
    public TimeSpan GitConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A fetch whose connection receives (or accepts) nothing for this long fails and is retried, releasing its
    /// fetch slot: a stalled primary cannot wedge the secondary. Each read and write is bounded, not the whole
    /// fetch, so a large clone that keeps receiving is never cut off.
    /// </summary>
    public TimeSpan GitTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many clones and fetches this instance runs at once.</summary>
    public int ConcurrentSyncs { get; set; } = 4;

    /// <summary>
    /// How many events this instance handles at once. Far higher than <see cref="ConcurrentSyncs"/> on
    /// purpose: key events need no fetch slot, and push events that join a waiting sync hold nothing but
    /// their message, so a burst to one repository costs one fetch.
    /// </summary>
    public int ConcurrentMessages { get; set; } = 128;

    /// <summary>
    /// The least time between the starts of two fetches of one repository. A push that arrives sooner waits
    /// the rest of the window, and that one fetch covers everything pushed meanwhile. An isolated push never waits.
    /// One second, measured (README, Benchmarks): a burst of 100 pushes in a second costs 3 fetches instead of
    /// 5 (500 ms) or 8 (250 ms), while the lag at 100 pushes/s over 100 repositories stays the same.
    /// </summary>
    public TimeSpan CoalesceWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// geo-primary's HTTP base URL (e.g. <c>https://geo.example.com</c>). When set together with
    /// <see cref="RegistrationToken"/>, the secondary registers itself at start and reports its status.
    /// </summary>
    public string? PrimaryUrl { get; set; }

    /// <summary>The primary's registration token (only its hash is configured on the primary).</summary>
    public string? RegistrationToken { get; set; }

    /// <summary>This secondary's own URL, recorded by the primary for operators.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>Selective sync: mirror only projects in these namespaces (group paths); empty means all.</summary>
    public List<string> Namespaces { get; set; } = [];

    /// <summary>How often the secondary reports its status to geo-primary.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often every mirror is compared with the primary by refs checksum (and repaired); zero turns the
    /// periodic verification off. Needs registration (Secondary:PrimaryUrl).
    /// </summary>
    public TimeSpan VerifyInterval { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// Where this secondary keeps the primary's files, by kind: <c>upload</c>, <c>lfs_object</c>, <c>avatar</c>.
    /// A kind without a root is not copied (its events fail visibly).
    /// </summary>
    public Dictionary<string, string> Files { get; set; } = [];

    /// <summary>A download that receives nothing for this long is stopped, and resumed on the next try.</summary>
    public TimeSpan DownloadIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a sync waits for another instance's sync of the same repository.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromMinutes(10);
}
