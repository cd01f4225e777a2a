-- The balancer (issue 17): migration orders replicate as the federation kind "migration_order" (the
-- issuing pool publishes every transition; hlc/origin keep the newest stamp, states only move forward);
-- a site may name the pool that serves it (its headcount weighs that pool's share); a worker may be
-- pinned to a home pool (kind "worker_pin", last writer wins), which the balancer never moves it from.
alter table worker_migration_orders add column hlc text not null default '';
alter table worker_migration_orders add column origin text not null default '';
alter table sites add column pool text;
create table worker_pins (
  worker_id text primary key,
  home_pool text,
  hlc text not null,
  origin text not null,
  updated_at timestamptz not null default now()
);
