-- Worker lifecycle: single-use provisioning codes, per-worker tokens (hashed, revocable),
-- the pool's model store (files with their SHA-256), the model assigned to each hardware class,
-- and the worker audit log (failover transitions, enrolment, revocation, upgrades).
create table worker_provision_codes (
  id bigint generated always as identity primary key,
  code_hash bytea not null unique,
  os text not null check (os in ('linux', 'macos', 'windows')),
  hardware text not null check (hardware in ('cpu', 'gpu')),
  label text not null default '' check (length(label) <= 128),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  redeemed_at timestamptz,
  worker_token_id bigint
);

create table worker_tokens (
  id bigint generated always as identity primary key,
  token_hash bytea not null unique,
  name text not null check (length(name) between 1 and 128),
  os text not null,
  hardware text not null,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz,
  revoked_at timestamptz
);

alter table worker_provision_codes
  add constraint worker_provision_codes_token_fk foreign key (worker_token_id) references worker_tokens (id);

create table model_files (
  file_name text primary key check (file_name ~ '^[A-Za-z0-9._-]{1,200}\.gguf$'),
  size_bytes bigint not null check (size_bytes >= 0),
  mtime_ms bigint not null,
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  recorded_at timestamptz not null default now()
);

create table hardware_class_models (
  hardware_class text primary key check (hardware_class in ('cpu-mid', 'gpu-small', 'gpu-large', 'apple-m')),
  file_name text not null references model_files (file_name) on delete cascade,
  updated_at timestamptz not null default now()
);

create table worker_audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  worker text not null,
  event text not null check (length(event) between 1 and 64),
  detail jsonb not null default '{}'::jsonb
);
create index worker_audit_log_at on worker_audit_log (at);
