-- Mirrors are stored by project id (@hashed/ab/cd/<sha256 of id>.git) and reached by a readable link at
-- <path_with_namespace>.git. A rename moves the link; a destroy removes both and leaves a tombstone.
ALTER TABLE projects DROP CONSTRAINT projects_state_check;
ALTER TABLE projects ADD CONSTRAINT projects_state_check CHECK (state IN ('pending', 'synced', 'failed', 'destroyed'));
-- Sequence of the event that set path_with_namespace: an older event never moves the path back.
ALTER TABLE projects ADD COLUMN path_sequence bigint NOT NULL DEFAULT 0;
-- Where the readable link currently is (NULL: no link yet).
ALTER TABLE projects ADD COLUMN linked_path text;
-- project_destroy's sequence: nothing older may bring the mirror back.
ALTER TABLE projects ADD COLUMN destroyed_sequence bigint;
