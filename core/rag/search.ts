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

export class Search {
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
      // HNSW filters after the scan: a project's rows among many need a wider beam to fill the list.
      await tx`select set_config('hnsw.ef_search', ${String(Math.min(1000, pool * 2))}, true)`
      return tx<SearchHit[]>`
        with q as (select replace(plainto_tsquery('simple', ${query})::text, '&', '|')::tsquery as ts),
        vec as (
          select c.document_id, c.idx, row_number() over (order by c.distance, c.document_id, c.idx) as r
          from (
            select c.document_id, c.idx, c.embedding <=> ${vector}::vector as distance from chunks c
            where ${vector}::vector is not null and c.project_id = ${projectId}
            order by c.embedding <=> ${vector}::vector
            limit ${pool}
          ) c
        ),
        txt as (
          select c.document_id, c.idx, row_number() over (order by ts_rank_cd(c.tsv, q.ts) desc, c.document_id, c.idx) as r
          from chunks c, q
          where c.project_id = ${projectId} and c.tsv @@ q.ts
          order by ts_rank_cd(c.tsv, q.ts) desc, c.document_id, c.idx
          limit ${pool}
        ),
        fused as (
          select document_id, idx, sum(1.0 / (${RRF_K} + r))::float8 as score
          from (select * from vec union all select * from txt) u
          group by document_id, idx
        )
        select f.document_id, d.title, c.text as chunk, c.idx as chunk_index, c.page, c.char_start, c.char_end, f.score
        from fused f
        join chunks c on c.document_id = f.document_id and c.idx = f.idx
        join documents d on d.id = f.document_id
        -- Vectors of another model are not comparable: such a document counts by its text rank only.
        where d.embedding_model = ${model} or not exists (select 1 from vec where vec.document_id = f.document_id)
        order by f.score desc, f.document_id, f.idx
        limit ${topK}`
    })
    const ms = performance.now() - started
    log.info(
      `search project=${projectId} mode=${vector ? "hybrid" : "text"} top_k=${topK} hits=${hits.length} ms=${ms.toFixed(1)}`,
    )
    return { hits: [...hits], mode: vector ? "hybrid" : "text" }
  }
}
