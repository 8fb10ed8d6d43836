-- What geo-primary's storage watcher has seen in each file store (Primary:Files), so a restart misses
-- nothing: a file on disk that is not announced yet is announced (once its size and mtime have settled),
-- an announced file that is gone from disk is announced as destroyed.
CREATE TABLE file_inventory (
    kind       smallint    NOT NULL,
    path       text        NOT NULL,
    size       bigint      NOT NULL,
    mtime      timestamptz NOT NULL,
    sha256     text,
    -- A FileCreated for this size and mtime is in event_log.
    announced  boolean     NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, path)
);
