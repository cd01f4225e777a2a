-- RAG search: per project, in how many chunks each full-text lexeme occurs (document frequency).
-- Search ranks only the chunks holding the query's rarest words (a bounded candidate set, read through
-- the GIN index) instead of every chunk holding any word: with the 'simple' configuration (no stop
-- words) "the" or "article" match most of a project, and ranking them all read every row (bench/ingest).
-- Kept by statement-level triggers, so ingest, replication and erasure (cascaded deletes) all count.
-- The lexeme '' (never one of a tsvector's) counts the project's chunks: the N of a word's IDF.

create table chunk_lexemes (
  project_id text not null,
  lexeme text not null,
  df int not null check (df > 0),
  primary key (project_id, lexeme)
);

create function chunk_lexemes_added() returns trigger language plpgsql as $$
begin
  insert into chunk_lexemes (project_id, lexeme, df)
    select n.project_id, l.lexeme, count(*)::int
    from added n, unnest('{""}' || tsvector_to_array(n.tsv)) as l (lexeme)
    group by n.project_id, l.lexeme
  on conflict (project_id, lexeme) do update set df = chunk_lexemes.df + excluded.df;
  return null;
end $$;

create function chunk_lexemes_removed() returns trigger language plpgsql as $$
begin
  -- One statement, one snapshot: the rows still counted elsewhere are decremented, the others deleted.
  with gone as (
    select o.project_id, l.lexeme, count(*)::int as n
    from removed o, unnest('{""}' || tsvector_to_array(o.tsv)) as l (lexeme)
    group by o.project_id, l.lexeme
  ),
  decremented as (
    update chunk_lexemes c set df = c.df - g.n from gone g
    where c.project_id = g.project_id and c.lexeme = g.lexeme and c.df > g.n
  )
  delete from chunk_lexemes c using gone g
  where c.project_id = g.project_id and c.lexeme = g.lexeme and c.df <= g.n;
  return null;
end $$;

create trigger chunk_lexemes_insert after insert on chunks
  referencing new table as added for each statement execute function chunk_lexemes_added();
create trigger chunk_lexemes_delete after delete on chunks
  referencing old table as removed for each statement execute function chunk_lexemes_removed();

insert into chunk_lexemes (project_id, lexeme, df)
  select c.project_id, l.lexeme, count(*)::int
  from chunks c, unnest('{""}' || tsvector_to_array(c.tsv)) as l (lexeme)
  group by c.project_id, l.lexeme;
