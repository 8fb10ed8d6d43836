-- Where an event came from: the GitLab instance that sent the hook (its X-Gitlab-Instance header, GitLab 15.x+)
-- or 'storage-watcher', and the hook's X-Gitlab-Event ("System Hook", "Push Hook", …). Shown by geo-admin events.
ALTER TABLE event_log ADD COLUMN origin text;
ALTER TABLE event_log ADD COLUMN gitlab_event text;
