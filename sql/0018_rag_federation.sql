-- RAG propagation and erasure: where a replicated document came from, and tombstones of erased
-- documents and projects (ids and content hash only, never content). A tombstone is checked when a
-- document or its chunks arrive, so a late or replayed copy never brings an erased document back.

-- origin: the pool whose upload this is (null: this pool). announced_at: when this pool published its
-- indexed document to the others (null: not yet; the sweeper publishes it, e.g. after a crash).
alter table documents add column origin text;
alter table documents add column announced_at timestamptz;
-- A replicated document's bytes: when this pool tried to fetch them from the origin over a LAN link.
alter table documents add column bytes_fetched_at timestamptz;

create table rag_tombstones (
  -- The erased document's id, or the erased project's id.
  id text primary key,
  what text not null check (what in ('document', 'project')),
  project_id text not null,
  content_hash text check (content_hash is null or content_hash ~ '^[0-9a-f]{64}$'),
  hlc text not null,
  origin text not null,
  -- The stored file of content_hash is removed by the pool's sweeper once no document still holds it.
  bytes_erased boolean not null default false,
  at timestamptz not null default now()
);
create index rag_tombstones_project on rag_tombstones (project_id);
create index rag_tombstones_bytes on rag_tombstones (bytes_erased) where not bytes_erased;
