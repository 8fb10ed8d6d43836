-- Overwritten history (README "Safety net"): the old tip of a ref a sync moved non-fast-forward, or deleted, kept in
-- the mirror as refs/geo-attic/<unix ms>/<ref without refs/> for Secondary:OverwriteRetention. The ref is the truth
-- (written first); this row lists it for geo-admin and lets the purger expire it without opening every mirror.
CREATE TABLE attic_refs (
    project_id   bigint      NOT NULL,
    kind         smallint    NOT NULL,
    ref          text        NOT NULL,
    original_ref text        NOT NULL,
    sha          text        NOT NULL,
    kept_at      timestamptz NOT NULL,
    PRIMARY KEY (project_id, kind, ref)
);
CREATE INDEX attic_refs_kept_at ON attic_refs (kept_at);
