using FluentValidation;
using Geo.Events.Core.Keys;
using Geo.Events.Core.Paths;

namespace Geo.Events.Primary.Hooks;

/// <summary>The rules a replicated hook must meet before it may enter the event log.</summary>
public sealed class SystemHookValidator : AbstractValidator<SystemHookPayload>
{
    private readonly IReadOnlyDictionary<Contracts.FileKind, string> _fileRoots;

    /// <param name="fileRoots">
    /// The file stores geo-primary serves (Primary:Files): a file event's path must not pass through a
    /// symbolic link in its root. Without roots, paths are checked by their text alone.
    /// </param>
    public SystemHookValidator(IReadOnlyDictionary<Contracts.FileKind, string>? fileRoots = null)
    {
        _fileRoots = fileRoots ?? new Dictionary<Contracts.FileKind, string>();
        When(p => HookEvents.IsRepositoryEvent(p.Kind), RepositoryRules);
        When(p => HookEvents.IsKeyEvent(p.Kind), KeyRules);
        When(p => HookEvents.IsProjectEvent(p.Kind), ProjectRules);
        When(p => p.Kind == HookEvents.WikiPage, WikiRules);
        When(p => HookEvents.IsFileEvent(p.Kind), FileRules);
        When(p => p.Kind == HookEvents.GroupRename, () =>
        {
            RuleFor(p => p.FullPath).Must(path => ProjectPath.NamespaceProblem(path) is null)
                .WithMessage(p => $"'full_path' {ProjectPath.NamespaceProblem(p.FullPath)}");
            RuleFor(p => p.OldFullPath).Must(path => ProjectPath.NamespaceProblem(path) is null)
                .WithMessage(p => $"'old_full_path' {ProjectPath.NamespaceProblem(p.OldFullPath)}");
            RuleFor(p => p.GroupId).GreaterThan(0).When(p => p.GroupId is not null);
        });
    }

    /// <summary>Files up to 1 TiB; GitLab's own limits are far lower.</summary>
    public const long MaxFileSize = 1L << 40;

    private void FileRules()
    {
        RuleFor(p => p.Path).Custom((path, context) =>
        {
            if (FilePath.Problem(path) is { } problem)
            {
                context.AddFailure("path", $"'path' {problem}");
                return;
            }

            var kind = HookEvents.FileEvents[context.InstanceToValidate.Kind!].Kind;
            if (_fileRoots.TryGetValue(kind, out var root) && !string.IsNullOrEmpty(root))
            {
                try
                {
                    FilePath.ResolveUnder(root, path!);
                }
                catch (InvalidFilePathException e)
                {
                    context.AddFailure("path", $"'path' {e.Reason}");
                }
            }
        });
        When(p => HookEvents.FileEvents[p.Kind!].Create, () =>
        {
            RuleFor(p => p.Size).NotNull().WithMessage("'size' is required")
                .InclusiveBetween(0, MaxFileSize).WithMessage($"'size' must be between 0 and {MaxFileSize} bytes");
            RuleFor(p => p.Sha256).Must(s => s is { Length: 64 } && s.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
                .WithMessage("'sha256' must be 64 lowercase hex digits");
        });
    }

    private void WikiRules()
    {
        RuleFor(p => p.Project).NotNull().WithMessage("'project' is required");
        RuleFor(p => p.Project!.Id).NotNull().WithMessage("'project.id' is required").GreaterThan(0).WithMessage("'project.id' must be positive")
            .When(p => p.Project is not null);
        RuleFor(p => p.Project!.PathWithNamespace)
            .Must(path => ProjectPath.Problem(path) is null)
            .WithMessage(p => $"'project.path_with_namespace' {ProjectPath.Problem(p.Project!.PathWithNamespace)}")
            .When(p => p.Project is not null);
        RuleFor(p => p.Wiki!.PathWithNamespace)
            .Equal(p => p.Project!.PathWithNamespace + SystemHookPayload.WikiSuffix)
            .WithMessage("'wiki.path_with_namespace' must be the project's path followed by .wiki")
            .When(p => p.Wiki?.PathWithNamespace is not null && p.Project is not null);
        RuleFor(p => p.ObjectAttributes!.Action)
            .Must(a => a is "create" or "update" or "delete")
            .WithMessage("'object_attributes.action' must be create, update or delete")
            .When(p => p.ObjectAttributes?.Action is not null);
    }

    private void ProjectRules()
    {
        RuleFor(p => p.ProjectId).NotNull().WithMessage("'project_id' is required").GreaterThan(0).WithMessage("'project_id' must be positive");
        RuleFor(p => p.PathWithNamespace)
            .Must(path => ProjectPath.Problem(path) is null)
            .WithMessage(p => $"'path_with_namespace' {ProjectPath.Problem(p.PathWithNamespace)}");
        When(p => p.Kind is HookEvents.ProjectRename or HookEvents.ProjectTransfer, () =>
            RuleFor(p => p.OldPathWithNamespace)
                .Must(path => ProjectPath.Problem(path) is null)
                .WithMessage(p => $"'old_path_with_namespace' {ProjectPath.Problem(p.OldPathWithNamespace)}"));
    }

    private void KeyRules()
    {
        RuleFor(p => p.Id).NotNull().WithMessage("'id' (the key's id) is required").GreaterThan(0).WithMessage("'id' must be positive");
        RuleFor(p => p.Username).NotEmpty().WithMessage("'username' is required")
            .MaximumLength(255).Must(u => u!.All(c => c > ' ' && c < '\x7f')).WithMessage("'username' must be printable ASCII without spaces")
            .When(p => !string.IsNullOrEmpty(p.Username));
        RuleFor(p => p.UserId).GreaterThan(0).When(p => p.UserId is not null);
        RuleFor(p => p.Key).Custom((key, context) =>
        {
            if (!SshPublicKey.TryParse(key, out _, out var problem))
            {
                context.AddFailure("key", $"'key' is not an acceptable SSH public key: {problem}");
            }
        }).When(p => p.Kind == HookEvents.KeyCreate);
    }

    private void RepositoryRules()
    {
        RuleFor(p => p.ProjectId).NotNull().GreaterThan(0);
        RuleFor(p => p.Project).NotNull().WithMessage("'project' is required");
        RuleFor(p => p.Project!.PathWithNamespace)
            .Must(path => ProjectPath.Problem(path) is null)
            .WithMessage(p => $"'project.path_with_namespace' {ProjectPath.Problem(p.Project!.PathWithNamespace)}")
            .When(p => p.Project is not null);
        RuleFor(p => p.Project!.Id)
            .Equal(p => p.ProjectId).WithMessage("'project.id' differs from 'project_id'")
            .When(p => p.Project?.Id is not null);

        When(p => p.Kind is HookEvents.Push or HookEvents.TagPush, () =>
        {
            RuleFor(p => p.Ref).Must(GitRef.IsValid).WithMessage("'ref' must be a full git ref name such as refs/heads/main");
            RuleFor(p => p.Ref).Must(r => r!.StartsWith("refs/heads/", StringComparison.Ordinal))
                .When(p => p.Kind == HookEvents.Push && GitRef.IsValid(p.Ref)).WithMessage("a push event's 'ref' must be under refs/heads/");
            RuleFor(p => p.Ref).Must(r => r!.StartsWith("refs/tags/", StringComparison.Ordinal))
                .When(p => p.Kind == HookEvents.TagPush && GitRef.IsValid(p.Ref)).WithMessage("a tag_push event's 'ref' must be under refs/tags/");
            RuleFor(p => p.Before).Must(GitRef.IsObjectId).WithMessage("'before' must be a 40 or 64 character hex object id");
            RuleFor(p => p.After).Must(GitRef.IsObjectId).WithMessage("'after' must be a 40 or 64 character hex object id");
        });

        When(p => p.Kind == HookEvents.RepositoryUpdate, () =>
        {
            RuleFor(p => p.Changes).NotNull().WithMessage("'changes' is required for repository_update");
            RuleFor(p => p.Changes!.Count).LessThanOrEqualTo(10_000).When(p => p.Changes is not null);
            RuleForEach(p => p.Changes).ChildRules(change =>
            {
                change.RuleFor(c => c.Ref).Must(GitRef.IsValid).WithMessage("'changes[].ref' must be a full git ref name");
                change.RuleFor(c => c.Before).Must(GitRef.IsObjectId).WithMessage("'changes[].before' must be a 40 or 64 character hex object id");
                change.RuleFor(c => c.After).Must(GitRef.IsObjectId).WithMessage("'changes[].after' must be a 40 or 64 character hex object id");
            });
        });
    }
}
