-- Worker migration orders (admin guide §4.6.1–4.6.2, issue 17): one row per move of a worker from
-- the issuing (source) pool to a target pool, signed by the issuing pool's Ed25519 key over
-- canonical({id, worker_id, source_pool, target_pool, reason, issued_by, issued_at}). Idempotent on
-- id: an order received twice (replication, a retried POST) is one row.
-- State: issued → draining → completed, or rolled_back (target never reported the worker in time),
-- or rejected (by an admin, while still issued).
create table worker_migration_orders (
  id uuid primary key,
  worker_id text not null,
  source_pool text not null,
  target_pool text not null,
  reason text not null,
  state text not null default 'issued'
    check (state in ('issued', 'draining', 'completed', 'rolled_back', 'rejected')),
  issued_by text not null,
  issued_at timestamptz not null,
  approved_at timestamptz,
  approved_by text,
  draining_at timestamptz,
  finished_at timestamptz,
  signature text not null
);
create index worker_migration_orders_worker on worker_migration_orders (worker_id, issued_at desc);
create index worker_migration_orders_open on worker_migration_orders (state) where state in ('issued', 'draining');
