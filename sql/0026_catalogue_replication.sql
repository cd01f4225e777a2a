-- Catalogue replication (issue 18, admin guide §4.6.3): the master's catalogue entries (file name,
-- size, SHA-256, parsed header; a deletion is a tombstone) and its assignments per hardware class and
-- per tier travel to satellites as the signed kinds "model_entry" and "model_assignment", last writer
-- wins by (hlc, origin). A satellite may learn an assignment before its copy of the file has arrived
-- (core/catalog/sync.ts copies it from the master), so assignments no longer require a local file row.
create table catalogue_entries (
  file_name text primary key,
  size_bytes bigint not null check (size_bytes >= 0),
  sha256 text not null,
  header jsonb,
  uploaded_by text,
  deleted boolean not null default false,
  hlc text not null,
  origin text not null,
  updated_at timestamptz not null default now()
);

alter table hardware_class_models drop constraint hardware_class_models_file_name_fkey;
alter table tier_models drop constraint tier_models_file_name_fkey;
alter table hardware_class_models add column hlc text not null default '';
alter table hardware_class_models add column origin text not null default '';
alter table tier_models add column hlc text not null default '';
alter table tier_models add column origin text not null default '';
