-- The W3C traceparent of the hook's request, so the outbox publish continues the same trace.
ALTER TABLE event_log ADD COLUMN trace_parent text;
