-- Wikis: a project's wiki repository is a row of its own, kind 1 (kind 0 is the project's repository),
-- mirrored at @hashed/…/<sha256(id)>.wiki.git and linked at <path_with_namespace>.wiki.git.
ALTER TABLE projects ADD COLUMN kind smallint NOT NULL DEFAULT 0 CHECK (kind IN (0, 1));
ALTER TABLE projects DROP CONSTRAINT projects_pkey;
ALTER TABLE projects ADD PRIMARY KEY (project_id, kind);
-- 'absent': the primary has no such repository (a project without a wiki); nothing to mirror, not an error.
ALTER TABLE projects DROP CONSTRAINT projects_state_check;
ALTER TABLE projects ADD CONSTRAINT projects_state_check CHECK (state IN ('pending', 'synced', 'failed', 'destroyed', 'absent'));
