-- Federation: this pool's identity, its bonded peers, the append-only log of signed envelopes,
-- refusals, and the replicated state (cluster-wide settings, sites, projects).
-- Replicated rows carry (hlc, origin): last writer wins, compared with collate "C".

create table federation_self (
  id int primary key check (id = 1),
  atom_id text not null,
  pubkey text not null,
  created_at timestamptz not null default now()
);

create table federation_peers (
  atom_id text primary key,
  pubkey text not null unique,
  url text not null,
  pool_name text,
  trust_level int not null default 1 check (trust_level between 0 and 3),
  first_seen timestamptz not null default now(),
  last_seen timestamptz,
  stable_since timestamptz,
  latency_ms double precision,
  link text check (link in ('lan', 'metro', 'wan')),
  revoked_at timestamptz
);

create table federation_attachment_tokens (
  token_hash bytea primary key,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  used_by text
);

create table federation_log (
  origin text not null,
  seq bigint not null check (seq > 0),
  hlc text not null,
  kind text not null,
  payload jsonb not null,
  sig text not null,
  received_from text,
  status text not null check (status in ('applied', 'superseded', 'observed')),
  at timestamptz not null default now(),
  primary key (origin, seq)
);

create function federation_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'federation_log is append-only';
end $$;
create trigger federation_log_no_update before update or delete on federation_log
  for each row execute function federation_log_append_only();

create table federation_rejects (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  from_peer text,
  origin text,
  seq bigint,
  kind text,
  reason text not null,
  detail text
);

create table cluster_settings (
  key text primary key,
  value jsonb not null,
  hlc text not null,
  origin text not null,
  updated_at timestamptz not null default now()
);

create table sites (
  site_id text primary key,
  name text not null,
  headcount int not null check (headcount >= 0),
  hlc text not null,
  origin text not null,
  updated_at timestamptz not null default now()
);

create table projects (
  id text primary key,
  name text not null,
  description text not null default '',
  hlc text not null,
  origin text not null,
  created_at timestamptz not null default now()
);
