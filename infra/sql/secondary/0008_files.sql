-- Files (uploads, LFS objects, avatars) this secondary holds or knows to be gone. Every write requires a
-- newer sequence than the row has, so a late, older create cannot resurrect a destroyed file.
CREATE TABLE files (
    kind       smallint    NOT NULL,
    path       text        NOT NULL,
    sequence   bigint      NOT NULL,
    -- present: on disk, verified; destroyed: removed on the primary; gone: the primary no longer had it
    -- when we asked (not retried); failed: the last copy failed (retrying, then dead-lettered)
    state      text        NOT NULL CHECK (state IN ('present', 'destroyed', 'gone', 'failed')),
    size       bigint,
    sha256     text,
    last_error text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, path)
);
