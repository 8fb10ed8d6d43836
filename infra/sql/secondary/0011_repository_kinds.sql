-- Every git repository type GitLab stores: kind 2 a project's design repository (under the project's id), 3 a
-- snippet (under the snippet's id), 4 a group's wiki (under the group's id). See RepositoryLayout.
ALTER TABLE projects DROP CONSTRAINT projects_kind_check;
ALTER TABLE projects ADD CONSTRAINT projects_kind_check CHECK (kind IN (0, 1, 2, 3, 4));

-- Whether the mirror differs from the primary, without reading either: the newest refs checksum of the primary's
-- repository this secondary knows (from the change detector's event, a verification, or the fetch that just
-- brought the mirror level) and the sequence it dates from (an older one never overwrites it), and the mirror's
-- own checksum after its last sync or verification.
ALTER TABLE projects ADD COLUMN primary_checksum text;
ALTER TABLE projects ADD COLUMN primary_checksum_sequence bigint NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN mirror_checksum text;
