-- A pool serving a forwarded request meters it against the key the forwarding pool admitted. That
-- key's envelope may still be on its way here, so a usage row names the key id without requiring the
-- key row yet. Keys are never deleted (revocation keeps the row): the id finds its name once it lands.
alter table api_usage drop constraint if exists api_usage_key_id_fkey;
