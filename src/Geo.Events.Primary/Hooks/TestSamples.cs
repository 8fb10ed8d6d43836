namespace Geo.Events.Primary.Hooks;

/// <summary>
/// The fixed sample data GitLab sends when an admin presses <b>Test</b> on a system hook (Admin Area → System hooks →
/// Test; <c>app/services/test_hooks/system_service.rb</c>): "Push events" and "Tag push events" both send
/// <c>Gitlab::DataBuilder::Push.sample_data</c> (project 15, <c>gitlab/gitlab</c>), "Repository update events"
/// <c>Gitlab::DataBuilder::Repository.sample_data</c> (project 40, no <c>project</c> object). Nothing in the
/// request's headers marks a test delivery (<c>X-Gitlab-Event</c> is "System Hook" as always), so the samples are
/// known by their fixed object ids. They are answered 200 and never recorded: project 15 or 40 of a real GitLab
/// is a real project whose mirror a sample must not touch.
/// </summary>
public static class TestSamples
{
    // Gitlab::DataBuilder::Push::SAMPLE_DATA
    private const string PushBefore = "95790bf891e76fee5e1747ab589903a6a1f80f22";
    private const string PushAfter = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
    private const long PushProjectId = 15;

    // Gitlab::DataBuilder::Repository::SAMPLE_DATA
    private const string UpdateBefore = "8205ea8d81ce0c6b90fbe8280d118cc9fdad6130";
    private const string UpdateAfter = "4045ea7a3df38697b3730a20fb73c8bed8a3e69e";
    private const long UpdateProjectId = 40;

    /// <summary>True when <paramref name="payload"/> is one of GitLab's Test samples.</summary>
    public static bool IsSample(SystemHookPayload payload) => payload.Kind switch
    {
        HookKinds.Push or HookKinds.TagPush =>
            payload.ProjectId == PushProjectId && payload.Before == PushBefore && payload.After == PushAfter,
        HookKinds.RepositoryUpdate =>
            payload.ProjectId == UpdateProjectId && payload.Project is null
            && payload.Changes is [{ Before: UpdateBefore, After: UpdateAfter }],
        _ => false,
    };
}
