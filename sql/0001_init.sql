-- Pool-wide key/value settings and the pool's own identity.
create table pool_settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);

create table pool_identity (
  id int primary key check (id = 1),
  pool_name text not null,
  created_at timestamptz not null default now()
);
