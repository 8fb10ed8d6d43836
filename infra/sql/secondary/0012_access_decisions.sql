-- Serving at the site (smart HTTP and our git-shell): the primary's "yes" to one credential reading one repository,
-- kept until expires_at (Secondary:AuthCacheTtl). The key is a SHA-256 of the credential, the protocol, the action
-- and the repository, never the credential itself; a "no" is never stored. Shared by every geo-secondary instance of
-- the site and by the short-lived git-shell processes sshd starts.
CREATE TABLE access_decisions (
    key_hash   text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
