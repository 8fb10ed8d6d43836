-- The safety net (README "Safety net"). Safety-net requests are answered as one-project runs.
ALTER TABLE reconcile_runs DROP CONSTRAINT reconcile_runs_kind_check;
ALTER TABLE reconcile_runs ADD CONSTRAINT reconcile_runs_kind_check
    CHECK (kind IN ('backfill', 'verify', 'resync', 'trash-restore', 'trash-release', 'guard-release', 'guard-discard', 'attic-restore'));

-- Mirrors put back from the trash by 'geo-admin trash restore': held (no destroy, guard or verification removes
-- them) until 'geo-admin trash release'. Written before the mirror is moved back, so a kill in between leaves a
-- hold on nothing, which release clears.
CREATE TABLE restored_mirrors (
    project_id  bigint      PRIMARY KEY,
    path        text        NOT NULL,
    restored_at timestamptz NOT NULL DEFAULT now()
);

-- The mass-destruction guard. destroy_log: destroys of live mirrors applied, counted over
-- Secondary:DestroyGuardWindow (a redelivered destroy counts once); emptied when an admin releases the guard.
CREATE TABLE destroy_log (
    project_id   bigint      PRIMARY KEY,
    destroyed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX destroy_log_at ON destroy_log (destroyed_at);

-- One row while the guard holds destroys; gone once an admin released or discarded them.
CREATE TABLE destroy_guard (
    id            boolean     PRIMARY KEY DEFAULT true CHECK (id),
    guarded_since timestamptz NOT NULL DEFAULT now(),
    reason        text        NOT NULL
);

-- Destroys held while guarded (durable: a restart keeps them): applied by 'guard release', dropped by 'guard discard'.
CREATE TABLE held_destroys (
    project_id bigint      PRIMARY KEY,
    path       text        NOT NULL,
    sequence   bigint      NOT NULL,
    held_at    timestamptz NOT NULL DEFAULT now()
);

-- Destroys an admin dropped ('guard discard'): their mirrors stay, and verification reports them as extra.
CREATE TABLE discarded_destroys (
    project_id   bigint      PRIMARY KEY,
    path         text        NOT NULL,
    discarded_at timestamptz NOT NULL DEFAULT now()
);
