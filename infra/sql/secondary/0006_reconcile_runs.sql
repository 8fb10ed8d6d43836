-- Backfill, verification and resync runs: what each compared and repaired. A run that was interrupted
-- (state 'running' at start) resumes after its cursor, the last project id it finished.
CREATE TABLE reconcile_runs (
    id          bigserial   PRIMARY KEY,
    request_id  bigint      UNIQUE,
    kind        text        NOT NULL CHECK (kind IN ('backfill', 'verify', 'resync')),
    project_id  bigint,
    state       text        NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'finished')),
    cursor      bigint      NOT NULL DEFAULT 0,
    total       integer     NOT NULL DEFAULT 0,
    done        integer     NOT NULL DEFAULT 0,
    matched     integer     NOT NULL DEFAULT 0,
    repaired    integer     NOT NULL DEFAULT 0,
    failed      integer     NOT NULL DEFAULT 0,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    error       text
);

-- Per project: the last verification's result.
ALTER TABLE projects ADD COLUMN verified_at timestamptz;
ALTER TABLE projects ADD COLUMN verification_state text CHECK (verification_state IN ('verified', 'repaired', 'mismatch'));
ALTER TABLE projects ADD COLUMN verified_checksum text;
