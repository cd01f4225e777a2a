-- Models this pool has seen served, so a model whose workers are all gone answers 503
-- (no worker right now) rather than 404 (never heard of it).
create table models (
  id text primary key check (length(id) between 1 and 128),
  kind text not null check (kind in ('llm', 'embedding')),
  first_seen timestamptz not null default now(),
  last_seen timestamptz not null default now()
);
