-- Virtual API keys (shown once, stored as SHA-256) and per-request usage.
create table api_keys (
  id uuid primary key,
  name text not null check (length(name) between 1 and 100),
  project text,
  prefix text not null,
  key_hash bytea not null unique,
  models text[],
  rpm integer check (rpm > 0),
  tpm integer check (tpm > 0),
  monthly_token_budget bigint check (monthly_token_budget > 0),
  priority text not null default 'interactive' check (priority in ('interactive', 'batch')),
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);

create table api_usage (
  id bigint generated always as identity primary key,
  key_id uuid references api_keys (id) on delete set null,
  model text not null,
  prompt_tokens integer not null check (prompt_tokens >= 0),
  completion_tokens integer not null check (completion_tokens >= 0),
  latency_ms integer not null,
  worker_id text,
  pool_name text not null,
  created_at timestamptz not null default now()
);
create index api_usage_key_time on api_usage (key_id, created_at);
