// Replicated kind "worker_token": a provisioned worker's token (its SHA-256, never the secret), name,
// OS and hardware, and its revocation, so an enrolled worker is accepted by every bonded pool (failover,
// joining through the entry) and a revocation on any pool disconnects it everywhere. Keyed by the hash:
// each pool numbers its rows itself.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"
import { NEWER_WINS } from "./_lww.ts"

export interface WorkerTokenPayload {
  token_hash: string
  name: string
  os: "linux" | "macos" | "windows"
  hardware: "cpu" | "gpu"
  revoked: boolean
}

const invalid = (what: string) => new CelluleError("payload_invalid", what, 400)

export const workerTokenReplica: ReplicatedKind<WorkerTokenPayload> = {
  kind: "worker_token",
  parse(payload) {
    const p = payload as Partial<WorkerTokenPayload> | null
    if (!p || typeof p.token_hash !== "string" || !/^[0-9a-f]{64}$/.test(p.token_hash))
      throw invalid("token_hash must be a SHA-256 hex digest")
    if (typeof p.name !== "string" || !/^[\w.-]{1,128}$/.test(p.name))
      throw invalid("name must be 1-128 letters, digits, '.', '-' or '_'")
    if (p.os !== "linux" && p.os !== "macos" && p.os !== "windows") throw invalid("os must be linux, macos or windows")
    if (p.hardware !== "cpu" && p.hardware !== "gpu") throw invalid("hardware must be cpu or gpu")
    return { token_hash: p.token_hash, name: p.name, os: p.os, hardware: p.hardware, revoked: p.revoked === true }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    // A revocation is never undone. A stale "live" envelope reaching a revoked row loses its stamp
    // (hlc '' is the publish-me mark of core/workers/cluster.ts), so the revocation is published again.
    const rows = await sql.unsafe(
      `insert into worker_tokens as t (token_hash, name, os, hardware, created_at, revoked_at, hlc, origin)
       values (decode($1, 'hex'), $2, $3, $4, now(), case when $5 then now() end, $6, $7)
       on conflict (token_hash) do update set name = excluded.name,
         revoked_at = case when $5 then coalesce(t.revoked_at, now()) else t.revoked_at end,
         hlc = case when t.revoked_at is not null and not $5 then '' else excluded.hlc end,
         origin = excluded.origin
       ${NEWER_WINS}
       returning id`,
      [p.token_hash, p.name, p.os, p.hardware, p.revoked, s.hlc, s.origin],
    )
    return rows.length > 0
  },
}
