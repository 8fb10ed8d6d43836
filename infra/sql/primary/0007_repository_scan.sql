-- What geo-primary's repository change detector last saw in each git repository of GitLab's storages
-- (Primary:RepositoryRoot, Primary:RepositoryStorages), so a restart misses nothing and announces nothing
-- twice: a row changes in the same transaction as the events it adds to event_log.
CREATE TABLE repository_scan (
    storage    text        NOT NULL,
    -- Relative to the storage, '/'-separated: @hashed/ab/cd/<sha256(id)>.wiki.git or group/project.git.
    disk_path  text        NOT NULL,
    -- RepositoryKind: 0 project, 1 wiki.
    kind       smallint    NOT NULL,
    project_id bigint      NOT NULL,
    -- gitlab.fullpath in hashed storage (the folder's path in legacy storage), without .wiki.
    full_path  text        NOT NULL,
    -- Modification times of the repository's folder, reftable/ and every folder under refs/: when they
    -- hold still, the refs are not read again.
    stat       text        NOT NULL,
    -- RefsChecksum v1 of the refs, and HEAD's target, as last read.
    checksum   text        NOT NULL,
    head       text,
    -- event_log's newest id when the pass that read this state began: a hook recorded later may announce
    -- the next change.
    read_seq   bigint      NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (storage, disk_path)
);

-- The detector asks which hooks arrived for one project since a sequence.
CREATE INDEX event_log_project ON event_log (project_id, id) WHERE project_id IS NOT NULL;

-- The storages whose first pass (which records without announcing) is done: told, not guessed from an empty
-- repository_scan, so a restart or a storage that looks empty for a while never swallows a change.
CREATE TABLE repository_scan_baseline (
    storage     text        PRIMARY KEY,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
