-- Secondaries that registered themselves (POST /api/v1/secondaries). Only the SHA-256 of each access token
-- is kept; the token itself is shown once, or was chosen by the secondary and never leaves it again.
CREATE TABLE secondaries (
    name              text        PRIMARY KEY,
    url               text,
    -- Selective sync: the namespaces (group paths) this secondary mirrors; empty means everything.
    namespaces        text[]      NOT NULL DEFAULT '{}',
    token_sha256      text        NOT NULL,
    registered_at     timestamptz NOT NULL DEFAULT now(),
    last_heartbeat_at timestamptz,
    -- The secondary's last status report, as it sent it (see README: status).
    status            jsonb
);
