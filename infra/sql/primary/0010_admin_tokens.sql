-- Tokens for the admin API and the status page, created with `geo-primary admin-token create`. Only the SHA-256 of
-- each token is kept; the token is shown once. Scope 'read' sees status, lists and shows; 'admin' may also act.
CREATE TABLE admin_tokens (
    name         text        PRIMARY KEY,
    scope        text        NOT NULL CHECK (scope IN ('read', 'admin')),
    token_sha256 text        NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
