-- When the project's oldest event not yet covered by a successful sync arrived (NULL when none is waiting):
-- the "age of the oldest unapplied event" that /metrics and status report.
ALTER TABLE projects ADD COLUMN pending_since timestamptz;
