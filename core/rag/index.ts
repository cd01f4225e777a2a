// core/rag — projects' documents: upload (durable), extraction, chunking and embedding on workers,
// hybrid search. The surface the HTTP edge and the pool use; no HTTP types in this folder.
import { join } from "node:path"
import type { Clock } from "../clock.ts"
import type { Config } from "../config/index.ts"
import type { Sql } from "../db/client.ts"
import type { Scheduler } from "../scheduler/scheduler.ts"
import { BlobStore } from "./blobs.ts"
import { Documents } from "./documents.ts"
import { type EmbeddingService, WorkerEmbeddings } from "./embed.ts"
import { Ingestor } from "./ingest.ts"
import { Memories } from "./memories.ts"
import { KINDS } from "../federation/kinds/index.ts"
import { Projects, type Publish } from "./projects.ts"
import { DocumentReplication, type PeerBytes } from "./replicate.ts"
import { Search } from "./search.ts"

export { DocumentTooLarge, type DocumentRow, type IndexedStatus } from "./documents.ts"
export type { SearchHit, SearchResult } from "./search.ts"
export type { EmbeddingService } from "./embed.ts"
export { ground, type Citation } from "./grounding.ts"
export type { ProjectCaller, ProjectRow, Publish } from "./projects.ts"
export { ANY_PROJECT, scopeOf, scopedCannotCreate } from "./projects.ts"

export interface Rag {
  projects: Projects
  memories: Memories
  documents: Documents
  search: Search
  ingestor: Ingestor
  blobs: BlobStore
  /** Documents to and from the other pools (federated pools only). */
  replication?: DocumentReplication
  start(): Promise<void>
  stop(): Promise<void>
}

type RagConfig = Pick<
  Config,
  | "dataDir"
  | "poolName"
  | "ragMaxDocumentBytes"
  | "ragChunkTokens"
  | "ragChunkOverlap"
  | "ragEmbedderWaitMs"
  | "ragLeaseMs"
  | "ragEmbeddingModel"
>

/** Build the RAG services of a pool; embeddings go to `scheduler`'s workers (or `embeddings` in tests). */
export function createRag(
  sql: Sql,
  clock: Clock,
  config: RagConfig,
  source: { scheduler: Scheduler } | { embeddings: EmbeddingService },
  opts: { pollMs?: number; publish?: Publish; peers?: PeerBytes } = {},
): Rag {
  const embeddings =
    "embeddings" in source ? source.embeddings : new WorkerEmbeddings(source.scheduler, config.ragEmbeddingModel)
  const blobs = new BlobStore(join(config.dataDir, "documents"))
  const ingestor = new Ingestor(sql, blobs, embeddings, clock, {
    owner: `${config.poolName}:${process.pid}:${clock.now()}`,
    ownerPrefix: config.poolName,
    leaseMs: config.ragLeaseMs,
    embedderWaitMs: config.ragEmbedderWaitMs,
    chunkTokens: config.ragChunkTokens,
    chunkOverlap: config.ragChunkOverlap,
    pollMs: opts.pollMs,
  })
  // Without federation (in-process tests), a replicated write is applied here only, and erasure and
  // replication of documents stay off (the routes delete locally).
  const publish: Publish =
    opts.publish ??
    (async (kind, payload) => {
      const k = KINDS.get(kind)!
      const p = k.parse(payload)
      await k.apply(sql, p, { hlc: String(clock.now()).padStart(16, "0"), origin: "local" })
      return { payload: p, origin: "local" }
    })
  const replication = opts.publish ? new DocumentReplication(sql, blobs, opts.publish, opts.peers) : undefined
  const documents = new Documents(
    sql,
    blobs,
    clock,
    config.ragMaxDocumentBytes,
    replication && ((pid, id, hash) => replication.eraseDocument(pid, id, hash)),
    replication && ((doc) => replication.fetchBytes(doc)),
  )
  if (replication) ingestor.onDone = (id) => replication.announce(id)
  return {
    projects: new Projects(sql, clock, blobs, publish, replication && ((pid) => replication.eraseProject(pid))),
    memories: new Memories(sql, embeddings, publish),
    documents,
    search: new Search(sql, embeddings),
    ingestor,
    blobs,
    replication,
    start: async () => {
      await ingestor.start()
      replication?.start()
    },
    stop: async () => {
      await replication?.stop()
      await ingestor.stop()
    },
  }
}
