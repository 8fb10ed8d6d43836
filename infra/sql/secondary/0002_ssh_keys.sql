-- SSH keys replicated from the primary. A destroyed key stays as a tombstone (destroyed = true) so that a
-- late, older key_create cannot bring it back: every write requires a newer sequence than the row has.
CREATE TABLE ssh_keys (
    key_id      bigint      PRIMARY KEY,
    username    text        NOT NULL,
    user_id     bigint,
    key_type    text,
    key_blob    text,
    fingerprint text,
    sequence    bigint      NOT NULL,
    destroyed   boolean     NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- AuthorizedKeysCommand looks keys up by fingerprint (a blob can exceed a btree entry).
CREATE INDEX ssh_keys_live_fingerprint ON ssh_keys (fingerprint) WHERE NOT destroyed;
