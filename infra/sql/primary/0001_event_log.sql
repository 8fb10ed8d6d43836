-- The outbox: every accepted hook becomes one row, committed before geo-primary answers 2xx.
-- id is the event's Sequence; the dispatcher publishes rows WHERE published_at IS NULL and then marks them.
CREATE TABLE event_log (
    id           bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    project_id   bigint,
    body         jsonb       NOT NULL,
    -- X-Gitlab-Event-UUID / Idempotency-Key of the HTTP delivery: a repeat maps to the same row.
    delivery_id  text        UNIQUE,
    received_at  timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);

CREATE INDEX event_log_unpublished ON event_log (id) WHERE published_at IS NULL;
