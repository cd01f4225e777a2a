// In-process federation nodes for unit and property tests: a real migrated embedded database each,
// a fresh identity, a hand-driven clock. Delivery between nodes calls the same ingest the HTTP route uses.
import { ManualClock } from "../../../core/clock.ts"
import type { Database } from "../../../core/db/client.ts"
import { highWater, ingest, missingFor, publish, type IngestResult } from "../../../core/federation/gossip.ts"
import { HybridClock } from "../../../core/federation/hlc.ts"
import { generateIdentity, type Identity } from "../../../core/federation/identity.ts"
import { testDatabase } from "../../support/db.ts"

export interface Node {
  name: string
  db: Database
  id: Identity
  clock: ManualClock
  hlc: HybridClock
}

export async function makeNodes(n: number, trust = 3): Promise<Node[]> {
  const nodes: Node[] = []
  for (let i = 0; i < n; i++) {
    const clock = new ManualClock(Date.UTC(2026, 0, 1))
    nodes.push({ name: `n${i}`, db: await testDatabase(), id: generateIdentity(), clock, hlc: new HybridClock(clock) })
  }
  for (const a of nodes)
    for (const b of nodes)
      if (a !== b)
        await a.db
          .sql`insert into federation_peers (atom_id, pubkey, url, pool_name, trust_level) values (${b.id.atomId}, ${b.id.pubkey}, ${"http://" + b.name + ".test"}, ${b.name}, ${trust})`
  return nodes
}

export function pub(n: Node, kind: string, payload: unknown) {
  return publish(n.db.sql, n.id, n.hlc, kind, payload)
}

export function deliver(
  to: Node,
  from: Node | null,
  envelopes: unknown[],
  mode: "active" | "observe" = "active",
): Promise<IngestResult> {
  return ingest(
    to.db.sql,
    { self: to.id, hlc: to.hlc, clock: to.clock, mode, minTrust: 3, fromPeer: from?.id.atomId ?? null },
    envelopes,
  )
}

/** Everything `from` has that `to` lacks, in order. */
export async function missing(from: Node, to: Node) {
  return missingFor(from.db.sql, await highWater(to.db.sql), 100_000, to.id.atomId)
}

/** The replicated state of a node, comparable across nodes. */
export async function state(n: Node) {
  const settings = await n.db.sql`select key, value, hlc, origin from cluster_settings order by key`
  const sites = await n.db.sql`select site_id, name, headcount, hlc, origin from sites order by site_id`
  const projects = await n.db.sql`select id, name, origin from projects order by id`
  return JSON.stringify({ settings, sites, projects })
}
