-- The cluster's licence: exactly one row (id = 1), created here so that the documented last-resort
-- `UPDATE cluster_license SET enforce = FALSE WHERE id = 1` always has a row to change.
-- The raw token is kept so the pool can verify it again at each boot (a new release may carry a new
-- key or revocation list); no API ever returns it. client_id, tier and expires_at are copies from the
-- verified token for humans running SQL; the pool trusts only the token.
create table cluster_license (
  id smallint primary key default 1 check (id = 1),
  token text check (token is null or length(token) <= 8192),
  client_id text,
  tier text,
  expires_at timestamptz,
  -- Emergency override (guide §7.6): false bypasses every licence gate.
  enforce boolean not null default true,
  -- Set by hand (SQL) to revoke locally; cleared when a new licence is installed.
  revoked boolean not null default false,
  installed_at timestamptz,
  installed_by text,
  updated_at timestamptz not null default now(),
  check ((token is null) = (client_id is null) and (token is null) = (installed_at is null))
);
insert into cluster_license (id) values (1);
