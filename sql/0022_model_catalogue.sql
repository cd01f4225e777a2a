-- Model catalogue (issue 18, admin guide §4.9, §1.6): an uploaded GGUF's parsed header (architecture,
-- parameter count, quantisation, context length, chat template, behaviour hints) is kept with its
-- file entry; each tier (fast / reasoning / code) names the model that serves it. A file still
-- assigned to a class or a tier is not deleted (the API answers 409 and names the assignment).
alter table model_files add column header jsonb;
alter table model_files add column uploaded_by text;

create table tier_models (
  tier text primary key check (tier in ('fast', 'reasoning', 'code')),
  file_name text not null references model_files (file_name),
  updated_at timestamptz not null default now()
);

-- The catalogue master (admin guide §4.6.3): one row, replicated as kind "catalogue_master". A
-- promotion raises the epoch; two promotions of the same epoch are settled by (hlc, origin), so every
-- pool converges on the same single master.
create table catalogue_master (
  id boolean primary key default true check (id),
  pool text not null,
  url text not null,
  epoch bigint not null check (epoch >= 1),
  promoted_by text not null,
  hlc text not null,
  origin text not null,
  updated_at timestamptz not null default now()
);
