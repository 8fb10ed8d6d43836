-- Serving over SSH: what each short-lived git-shell process (one per SSH connection) decided and served, written in one
-- INSERT as it ends, so that the long-running geo-secondary can count it in geo_serve_* (protocol "ssh"), its status
-- report and its log. A running geo-secondary takes the rows (DELETE … RETURNING, so each is counted by one instance)
-- within seconds; they hold no credential: the key's id, the repository, the outcome, the figures.
CREATE TABLE serve_outcomes (
    id               bigserial   PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    protocol         text        NOT NULL,
    repository       text        NOT NULL,
    service          text        NOT NULL,
    key_id           bigint,
    outcome          text        NOT NULL,
    served           text        CHECK (served IN ('local', 'redirected')),
    decision         text,
    decision_source  text        CHECK (decision_source IN ('cached', 'asked')),
    decision_seconds float8,
    bytes            bigint      NOT NULL DEFAULT 0,
    duration_ms      float8      NOT NULL
);
