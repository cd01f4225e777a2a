-- Worker identity (issues 22.5 and 14.4).
-- A worker id belongs to the token that first presented it: another token presenting it is refused.
-- token_id null: the shared join token (CELLULE_WORKER_TOKEN), which all its holders share.
create table worker_ids (
  worker_id text primary key check (worker_id ~ '^[A-Za-z0-9_-]{8,64}$'),
  token_id bigint references worker_tokens (id) on delete cascade,
  bound_at timestamptz not null default now()
);

-- Per-worker tokens replicate cluster-wide (kind "worker_token", keyed by token_hash): last writer
-- wins by (hlc, origin); hlc '' marks a row not yet published (enrolled before this migration).
alter table worker_tokens add column hlc text not null default '';
alter table worker_tokens add column origin text not null default '';
