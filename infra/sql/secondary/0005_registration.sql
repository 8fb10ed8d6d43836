-- This secondary's registration with geo-primary. The access token is kept here because the secondary must
-- present it; it is generated before the first registration attempt, so a crash mid-registration repeats
-- the same request (idempotent on the primary) instead of being refused as a different token.
CREATE TABLE registration (
    name          text        PRIMARY KEY,
    primary_url   text        NOT NULL,
    access_token  text        NOT NULL,
    registered_at timestamptz
);
