-- Work geo-admin asks of a secondary (backfill, verify, resync of one project). The secondary learns of it
-- in the answer to its status report, and the request stays open until a report says it finished, so a
-- lost answer or a restarted secondary loses nothing.
CREATE TABLE secondary_requests (
    id           bigserial   PRIMARY KEY,
    secondary    text        NOT NULL REFERENCES secondaries (name) ON DELETE CASCADE,
    kind         text        NOT NULL CHECK (kind IN ('backfill', 'verify', 'resync')),
    project_id   bigint,
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    outcome      jsonb
);

CREATE INDEX secondary_requests_open ON secondary_requests (secondary, id) WHERE finished_at IS NULL;
