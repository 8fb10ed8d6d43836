-- Each secondary's low watermark: every event up to this event_log id that was routed to it is finished with
-- (applied, covered, filtered out, or dead-lettered). geo-primary advances it from the sequences each status report
-- lists (status->'applied') and computes the age of the oldest unapplied event from event_log, so a stopped or slow
-- secondary's backlog shows its real age. A secondary's queue receives the events recorded after it was declared:
-- a new registration starts at the newest id; secondaries registered before this column existed start at the newest
-- id at the time of the upgrade.
ALTER TABLE secondaries ADD COLUMN applied_through bigint NOT NULL DEFAULT 0;
UPDATE secondaries SET applied_through = (SELECT coalesce(max(id), 0) FROM event_log);
