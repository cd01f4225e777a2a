-- The model probe (admin guide §4.9.4, core/catalog/probe.ts): the control prompts run on one isolated
-- worker before a model file is assigned fleet-wide. One row per model file of this pool's store, for the
-- file's content (sha256): a changed file needs a new probe. answers holds each prompt with the raw
-- answer and its flags; accepted_* records an administrator accepting a flagged (or failed) probe.
create table model_probes (
  file_name text primary key,
  sha256 text not null,
  model_id text not null,
  status text not null check (status in ('running', 'passed', 'flagged', 'failed')),
  worker_id text,
  worker_name text,
  flags jsonb not null default '[]',
  answers jsonb not null default '[]',
  error text,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  accepted_by text,
  accepted_at timestamptz
);
