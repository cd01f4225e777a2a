// core/rag/search — hybrid retrieval in a project: pgvector cosine (HNSW) and PostgreSQL full-text
// rank, fused by reciprocal rank. Full text matters to lawyers: exact names, case numbers, article
// references score even when their meaning is far from the question's. The query is embedded on a
// worker; with no embedder live the search is full-text only (reads never depend on a worker).
import type { Sql } from "../db/client.ts"
import { logger } from "../log.ts"
import type { EmbeddingService } from "./embed.ts"

const log = logger("document_search")

export interface SearchHit {
  document_id: string
  title: string
  chunk: string
  chunk_index: number
  page: number | null
  char_start: number
  char_end: number
  score: number
}

export interface SearchResult {
  hits: SearchHit[]
  /** "hybrid", or "text" when no embedder was live to embed the query. */
  mode: "hybrid" | "text"
}

// The usual RRF constant: a hit's weight is 1/(K + rank); K damps the head of each list.
const RRF_K = 60
/**
 * Chunks the full-text side ranks at most (about): the query's rarest words are taken while the chunks
 * holding them stay under this, so ranking reads a bounded number of rows (each one a heap visit for its
 * tsvector) whatever the project's size. Common words ("the", "article") add nothing to a rank anyway.
 */
export const TEXT_CANDIDATES = 400

/** A lexeme as a tsquery operand: quoted, so `:`, `&` or `|` in it stay literal. */
const operand = (lexeme: string) => `'${lexeme.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`

export interface TextQuery {
  /** The tsquery text: the picked words OR-ed, or all of them AND-ed (`all`). */
  ts: string
  all: boolean
  /** The picked words and their weight (IDF, from N: the project's chunks); a chunk scores the sum of those it holds. */
  lexemes: string[]
  idf: number[]
}

/**
 * The text side's query, from the query's lexemes with the number of the project's chunks holding each
 * (chunk_lexemes) and N, the project's chunks: rarest first, OR-ed while their chunks add up to at most
 * `cap` (the rarest always goes in). When even the rarest word is in more than `cap` chunks, every word
 * must match (AND) and the caller caps the rows read. Null when no word of the query is in the project.
 */
export function textQuery(terms: { lexeme: string; df: number }[], n: number, cap = TEXT_CANDIDATES): TextQuery | null {
  const present = terms.filter((t) => t.df > 0).sort((a, b) => a.df - b.df || (a.lexeme < b.lexeme ? -1 : 1))
  if (!present.length) return null
  const all = present[0].df > cap
  const picked: typeof present = []
  let total = 0
  for (const t of present) {
    if (!all && picked.length && total + t.df > cap) break
    picked.push(t)
    total += t.df
  }
  return {
    ts: picked.map((t) => operand(t.lexeme)).join(all ? " & " : " | "),
    all,
    lexemes: picked.map((t) => t.lexeme),
    idf: picked.map((t) => Math.log(1 + Math.max(n, t.df) / t.df)),
  }
}

export class Search {
  private iterative: boolean | undefined
  constructor(
    private readonly sql: Sql,
    private readonly embeddings: EmbeddingService,
  ) {}

  async search(projectId: string, query: string, topK: number): Promise<SearchResult> {
    const started = performance.now()
    const model = this.embeddings.model()
    let vector: string | null = null
    if (model) {
      try {
        const r = await this.embeddings.embed(model, [query], "interactive")
        vector = `[${r.vectors[0].join(",")}]`
      } catch (e) {
        log.warn(`query not embedded (${(e as Error).message}); full-text only`)
      }
    }
    // Each side contributes its top candidates; more candidates than asked so fusion can reorder.
    const pool = Math.max(50, topK * 5)
    const hits = await this.sql.begin(async (tx) => {
      // HNSW filters after the scan: with an iterative scan (pgvector 0.8) it goes on past the beam until
      // the project's rows fill the list, so the beam stays the list's size. A wider one reads more of the
      // graph than the embedded database's 16 MB of shared buffers hold (at 100 000 chunks: 4-8x slower).
      // pgvector before 0.8 (an external server's) has no iterative scan: the wider beam of old instead.
      this.iterative ??= await tx<{ v: boolean }[]>`
        select coalesce(string_to_array(extversion, '.')::int[] >= '{0,8}', false) as v
        from pg_extension where extname = 'vector'`.then((r) => r[0]?.v ?? false)
      await tx`select set_config('hnsw.ef_search', ${String(Math.min(1000, this.iterative ? pool : pool * 2))}, true)`
      if (this.iterative) await tx`select set_config('hnsw.iterative_scan', 'relaxed_order', true)`
      // The lexeme '' counts the project's chunks (sql/0020_rag_search_terms.sql).
      const terms = await tx<{ lexeme: string; df: number }[]>`
        select q.lexeme, coalesce(l.df, 0) as df
        from unnest('{""}' || tsvector_to_array(to_tsvector('simple', ${query}))) as q (lexeme)
        left join chunk_lexemes l on l.project_id = ${projectId} and l.lexeme = q.lexeme`
      const n = terms.find((t) => t.lexeme === "")?.df ?? 0
      const text = textQuery(
        terms.filter((t) => t.lexeme !== ""),
        n,
      )
      // The query vector is one parameter (7-8 KB of text, parsed once), read by the index scan as an
      // init plan. Chunk rows (text, page) are read for the top_k fused hits only, not every candidate.
      return tx<SearchHit[]>`
        with q as (select ${text?.ts ?? null}::tsquery as ts),
        qv as (select ${vector}::vector as v),
        vec as (
          select c.document_id, c.idx, row_number() over (order by c.distance, c.document_id, c.idx) as r
          from (
            select c.document_id, c.idx, c.embedding <=> (select v from qv) as distance from chunks c
            where (select v from qv) is not null and c.project_id = ${projectId}
            order by c.embedding <=> (select v from qv)
            limit ${pool}
          ) c
        ),
        txt as (
          -- At most TEXT_CANDIDATES rows read (the rare words' chunks, or the first that hold them all).
          -- A chunk scores the IDF of the picked words it holds (rare words count most), then their density.
          select c.document_id, c.idx, row_number() over (order by c.weight desc, c.rank desc, c.document_id, c.idx) as r
          from (
            select c.document_id, c.idx, ts_rank_cd(c.tsv, q.ts) as rank,
                   (select sum(w.idf) from unnest(${text?.lexemes ?? []}::text[], ${text?.idf ?? []}::float8[]) as w (lexeme, idf)
                    where w.lexeme = any(tsvector_to_array(c.tsv))) as weight
            from (select c.document_id, c.idx, c.tsv from chunks c, q where q.ts is not null and c.project_id = ${projectId} and c.tsv @@ q.ts
                  limit ${TEXT_CANDIDATES * 2}) c, q
            order by weight desc, rank desc, c.document_id, c.idx
            limit ${pool}
          ) c
        ),
        fused as (
          select document_id, idx, sum(1.0 / (${RRF_K} + r))::float8 as score
          from (select * from vec union all select * from txt) u
          group by document_id, idx
        ),
        top as (
          select f.document_id, f.idx, f.score, d.title
          from fused f
          join documents d on d.id = f.document_id
          -- Vectors of another model are not comparable: such a document counts by its text rank only.
          where d.embedding_model = ${model} or not exists (select 1 from vec where vec.document_id = f.document_id)
          order by f.score desc, f.document_id, f.idx
          limit ${topK}
        )
        select t.document_id, t.title, c.text as chunk, c.idx as chunk_index, c.page, c.char_start, c.char_end, t.score
        from top t
        join chunks c on c.document_id = t.document_id and c.idx = t.idx
        order by t.score desc, t.document_id, t.idx`
    })
    const ms = performance.now() - started
    log.info(
      `search project=${projectId} mode=${vector ? "hybrid" : "text"} top_k=${topK} hits=${hits.length} ms=${ms.toFixed(1)}`,
    )
    return { hits: [...hits], mode: vector ? "hybrid" : "text" }
  }
}
