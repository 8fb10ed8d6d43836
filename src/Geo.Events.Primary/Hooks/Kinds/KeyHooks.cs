using FluentValidation;
using Geo.Events.Contracts;
using Geo.Events.Core.Keys;

namespace Geo.Events.Primary.Hooks.Kinds;

/// <summary><c>key_create</c> and <c>key_destroy</c>: a user's or a deploy key, by GitLab's key id.</summary>
internal static class KeyHooks
{
    public static void DestroyRules(SystemHookValidator v)
    {
        v.RuleFor(p => p.Id).NotNull().WithMessage("'id' (the key's id) is required").GreaterThan(0).WithMessage("'id' must be positive");

        // GitLab sends "username" only for a key that belongs to a user (Gitlab::HookData::KeyBuilder#user_data): a
        // deploy key's events have none and must replicate all the same. An explicit "" is read as missing; a username
        // that is present must be one the secondary accepts.
        v.RuleFor(p => p.Username)
            .MaximumLength(255).WithMessage("'username' must be at most 255 characters")
            .Must(u => u!.All(c => c > ' ' && c < '\x7f')).WithMessage("'username' must be printable ASCII without spaces")
            .When(p => !string.IsNullOrEmpty(p.Username));
        v.RuleFor(p => p.UserId).GreaterThan(0).When(p => p.UserId is not null);
    }

    /// <summary>The key is parsed here, at ingest: a line that would not parse never reaches a secondary.</summary>
    public static void CreateRules(SystemHookValidator v)
    {
        DestroyRules(v);
        v.RuleFor(p => p.Key).Custom((key, context) =>
        {
            if (!SshPublicKey.TryParse(key, out _, out var problem))
            {
                context.AddFailure("key", $"'key' is not an acceptable SSH public key: {problem}");
            }
        });
    }

    /// <summary>Carried as its parts; the comment is not replicated.</summary>
    public static IGeoEvent MapCreate(SystemHookPayload payload, EventStamp stamp)
    {
        var key = SshPublicKey.Parse(payload.Key);
        return new SshKeyCreated
        {
            EventId = stamp.EventId,
            Sequence = 0,
            OccurredAt = stamp.OccurredAt,
            KeyId = payload.Id!.Value,
            Username = payload.Username ?? "",
            UserId = payload.UserId,
            KeyType = key.Type,
            KeyBlob = key.Base64,
            Fingerprint = key.Fingerprint,
        };
    }

    public static IGeoEvent MapDestroy(SystemHookPayload payload, EventStamp stamp) => new SshKeyDestroyed
    {
        EventId = stamp.EventId,
        Sequence = 0,
        OccurredAt = stamp.OccurredAt,
        KeyId = payload.Id!.Value,
        Username = payload.Username ?? "",
        UserId = payload.UserId,
    };
}
