namespace Geo.Events.Admin;

/// <summary>geo-admin's exit codes, for scripts.</summary>
public static class ExitCodes
{
    /// <summary>Done (including "nothing matched").</summary>
    public const int Ok = 0;

    /// <summary>The command ran but some of its work failed (e.g. a message the broker would not take).</summary>
    public const int PartialFailure = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>Something named does not exist (a dead letter id).</summary>
    public const int NotFound = 3;

    /// <summary>PostgreSQL or RabbitMQ could not be reached.</summary>
    public const int Unavailable = 4;

    /// <summary>geo-admin status: at least one secondary is not "ok" (behind, stale, failing, broken or unknown).</summary>
    public const int Unhealthy = 5;

    /// <summary>geo-admin wait: the secondary did not have the commit before --timeout.</summary>
    public const int TimedOut = 6;

    /// <summary>geo-primary's admin API refused the token: unknown or revoked (401), or its scope does not allow this (403).</summary>
    public const int Refused = 7;
}
