-- RAG: a project's documents (original bytes on disk under <data dir>/documents by SHA-256), their
-- chunks with embedding and full-text vectors, and the project's memories (short facts).
-- The vector width is the guide's MiniLM-L6-v2 (384): HNSW indexes need a fixed dimension.

create table documents (
  id text primary key,
  project_id text not null references projects (id) on delete cascade,
  title text not null,
  content_hash text not null check (content_hash ~ '^[0-9a-f]{64}$'),
  mime text not null,
  size_bytes bigint not null check (size_bytes >= 0),
  indexed_status text not null default 'pending'
    check (indexed_status in ('pending', 'processing', 'done', 'skipped', 'failed')),
  reason text,
  -- Ingest lease: who works on it and until when; an expired lease is taken over (crash safety).
  lease_owner text,
  lease_expires_at timestamptz,
  -- Set while no embedder is live; past CELLULE_RAG_EMBEDDER_WAIT_MS the document fails.
  waiting_since timestamptz,
  chunks_total int not null default 0,
  chunks_embedded int not null default 0,
  pages int,
  embedding_model text,
  attempts int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  indexed_at timestamptz,
  unique (project_id, content_hash)
);
create index documents_to_ingest on documents (indexed_status, created_at)
  where indexed_status in ('pending', 'processing');

create table chunks (
  document_id text not null references documents (id) on delete cascade,
  -- Denormalised so a project's search filters without a join.
  project_id text not null,
  idx int not null check (idx >= 0),
  text text not null,
  char_start int not null,
  char_end int not null check (char_end >= char_start),
  page int,
  token_count int not null,
  embedding vector(384) not null,
  -- Which worker computed the vector: the proof that embeddings never ran in the pool.
  embedded_by text not null,
  -- 'simple': no stemming, so names, case numbers and article references match as written, in any language.
  tsv tsvector generated always as (to_tsvector('simple', text)) stored,
  primary key (document_id, idx)
);
create index chunks_project on chunks (project_id);
create index chunks_embedding_hnsw on chunks using hnsw (embedding vector_cosine_ops);
create index chunks_tsv on chunks using gin (tsv);

create table memories (
  id text primary key,
  project_id text not null references projects (id) on delete cascade,
  text text not null check (length(text) between 1 and 2000),
  embedding vector(384),
  embedded_by text,
  hlc text not null,
  origin text not null,
  created_at timestamptz not null default now()
);
create index memories_project on memories (project_id, created_at);
