-- The worker id (worker.json, sent in hello) last seen with each per-worker token, so an administrator
-- can revoke a worker by the id the dashboard shows, not only by the token id its enrolment returned.
alter table worker_tokens add column worker_id text check (worker_id ~ '^[A-Za-z0-9_-]{8,64}$');
create index worker_tokens_worker_id on worker_tokens (worker_id);
