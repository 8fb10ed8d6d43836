-- Event sequences this secondary has finished with (applied, covered, filtered out by selective sync or
-- dead-lettered), written before the message is acknowledged. The heartbeat reports them to geo-primary, which
-- advances the secondary's low watermark over them and answers it; rows up to that watermark are then deleted.
CREATE TABLE applied_events (
    sequence bigint PRIMARY KEY
);
