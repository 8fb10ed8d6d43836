-- Safety-net requests (geo-admin trash restore|release, guard release|discard, attic restore) travel like
-- backfill/verify/resync: left here, handed to the secondary with its next status report. 'argument' carries
-- the path a restore goes to, or the ref names an attic restore needs.
ALTER TABLE secondary_requests DROP CONSTRAINT secondary_requests_kind_check;
ALTER TABLE secondary_requests ADD CONSTRAINT secondary_requests_kind_check
    CHECK (kind IN ('backfill', 'verify', 'resync', 'trash-restore', 'trash-release', 'guard-release', 'guard-discard', 'attic-restore'));
ALTER TABLE secondary_requests ADD COLUMN argument text;
