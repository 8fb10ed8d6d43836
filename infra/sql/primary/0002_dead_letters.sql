-- Messages that a secondary could not apply (its _error queue) or that no consumer took (_skipped), moved
-- here by geo-primary's dead-letter ingest so that geo-admin can list, group, show, replay and archive them.
CREATE TABLE dead_letters (
    id                bigserial   PRIMARY KEY,
    secondary         text        NOT NULL,
    source_queue      text        NOT NULL,
    original_queue    text        NOT NULL,
    reason            text        NOT NULL CHECK (reason IN ('fault', 'skipped')),
    -- sha256 of the delivery's headers and body: a redelivery of the same dead letter is not stored twice.
    delivery_hash     text        NOT NULL,
    -- The failure's cause: sha256 of exception type, message and event type (first 10 hex digits).
    group_id          text        NOT NULL,
    message_id        text,
    message_type      text,
    project_id        bigint,
    project_path      text,
    key_id            bigint,
    exception_type    text,
    exception_message text,
    stack_trace       text,
    retry_count       integer,
    redelivery_count  integer,
    faulted_at        timestamptz,
    ingested_at       timestamptz NOT NULL DEFAULT now(),
    properties        jsonb       NOT NULL,
    headers           jsonb       NOT NULL,
    body              bytea       NOT NULL,
    state             text        NOT NULL DEFAULT 'failed' CHECK (state IN ('failed', 'replayed', 'archived')),
    replayed_at       timestamptz,
    archived_at       timestamptz,
    UNIQUE (source_queue, delivery_hash)
);

CREATE INDEX dead_letters_state ON dead_letters (state, secondary, id);

-- Every replay, archive and restore geo-admin performs: who, when, what, which batch, with what outcome.
CREATE TABLE dead_letter_actions (
    id             bigserial   PRIMARY KEY,
    batch_id       uuid        NOT NULL,
    action         text        NOT NULL CHECK (action IN ('replay', 'archive', 'restore')),
    dead_letter_id bigint      NOT NULL REFERENCES dead_letters (id) ON DELETE CASCADE,
    actor          text        NOT NULL,
    at             timestamptz NOT NULL DEFAULT now(),
    outcome        text        NOT NULL,
    detail         text
);

CREATE INDEX dead_letter_actions_batch ON dead_letter_actions (batch_id);
