// core/federation/kinds — the registry of replicated kinds. Adding a kind: write one file exporting a
// ReplicatedKind (parse + last-writer-wins apply) and add it to KINDS below. Nothing else changes.
import type { Sql, Tx } from "../../db/client.ts"
import { clusterSetting } from "./setting.ts"
import { siteDeclaration } from "./site.ts"
import { projectCreation } from "./project.ts"
import { apiKeyReplica } from "./api-key.ts"
import { workerTokenReplica } from "./worker-token.ts"
import { memoryFact } from "./memory-fact.ts"
import { releaseKeyReplica } from "./release-key.ts"
import { documentChunks, documentReplica, documentTombstone } from "./document.ts"
import { catalogueMaster } from "./catalogue-master.ts"
import { migrationOrderReplica } from "./migration-order.ts"
import { workerPinReplica } from "./worker-pin.ts"
import { modelAssignment, modelEntry } from "./model-catalogue.ts"
import { branding } from "./branding.ts"

/** Who wrote a value and when: the last-writer-wins key. */
export interface Stamp {
  hlc: string
  origin: string
}

export interface ReplicatedKind<P = any> {
  kind: string
  /** Validate a payload (local or from a peer); throw CelluleError "payload_invalid". */
  parse(payload: unknown): P
  /** Apply idempotently, keeping the newer of (stored, incoming) by (hlc, origin). True if it won. */
  apply(sql: Sql | Tx, p: P, stamp: Stamp): Promise<boolean>
  /** After the envelope is logged (same transaction), when apply did not win: e.g. redact an erased document's copy. */
  afterLog?(sql: Sql | Tx, p: P, stamp: Stamp): Promise<void>
}

export const KINDS: ReadonlyMap<string, ReplicatedKind> = new Map(
  [
    clusterSetting,
    siteDeclaration,
    projectCreation,
    apiKeyReplica,
    workerTokenReplica,
    memoryFact,
    releaseKeyReplica,
    documentReplica,
    documentChunks,
    documentTombstone,
    catalogueMaster,
    migrationOrderReplica,
    workerPinReplica,
    modelEntry,
    modelAssignment,
    branding,
  ].map((k) => [k.kind, k as ReplicatedKind]),
)
