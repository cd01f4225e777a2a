-- Release public keys of the bonded pools (issue 14.4): replicated kind "release_key", keyed by the
-- issuing pool's atom id, last writer wins by (hlc, origin). Only public keys: a worker that failed
-- over to a peer verifies that peer's signed self-update offers. Private keys never leave a pool.
create table release_keys (
  atom_id text primary key,
  public_key text not null,
  hlc text not null,
  origin text not null
);
