-- What admins did that has no history of its own (dead-letter actions keep theirs in dead_letter_actions, backfill,
-- verify and resync theirs in secondary_requests): today `geo-admin secondaries remove`. actor is
-- 'admin-token:<name>' through the admin API, GEO_ADMIN_ACTOR (or user@host) when geo-admin ran on the database.
CREATE TABLE admin_actions (
    id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    actor  text        NOT NULL,
    action text        NOT NULL,
    target text        NOT NULL,
    detail text
);
