-- Administrators and their dashboard sessions. Passwords are Argon2id-encoded strings;
-- session tokens are stored as SHA-256 hashes only.
create table admin_users (
  id bigint generated always as identity primary key,
  email text not null unique check (email = lower(email) and position('@' in email) > 1),
  password_hash text not null,
  created_at timestamptz not null default now(),
  password_changed_at timestamptz not null default now()
);

create table admin_sessions (
  token_hash bytea primary key,
  admin_id bigint not null references admin_users (id) on delete cascade,
  csrf_token text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index admin_sessions_expiry on admin_sessions (expires_at);
