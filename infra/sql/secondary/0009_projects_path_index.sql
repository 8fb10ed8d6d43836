-- A sync asks whether another project has taken its path since (ProjectRegistry's PathTaken): one index probe.
CREATE INDEX projects_path ON projects (path_with_namespace, kind);
