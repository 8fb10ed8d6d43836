-- The secondary's registry: one row per project it mirrors.
CREATE TABLE projects (
    project_id           bigint      PRIMARY KEY,
    path_with_namespace  text        NOT NULL,
    state                text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'synced', 'failed')),
    -- Highest event Sequence this secondary has received for the project.
    max_seen_sequence    bigint      NOT NULL DEFAULT 0,
    -- Every event with a Sequence up to this one is covered by the last successful sync: it had been
    -- received before that sync started, so the fetch saw the primary at least as new as the event.
    last_synced_sequence bigint      NOT NULL DEFAULT 0,
    last_synced_at       timestamptz,
    sync_count           bigint      NOT NULL DEFAULT 0,
    last_error           text,
    retry_count          integer     NOT NULL DEFAULT 0,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
