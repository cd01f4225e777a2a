// The pools a `cellule proxy --discover` learns from a pool: itself, then its bonded, non-revoked peers
// at MIN_TRUST_LEVEL or more (a real migrated embedded database; the route is a one-line call to this).
import { afterAll, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { Federation, peers } from "../../../core/federation/index.ts"
import { generateIdentity } from "../../../core/federation/identity.ts"
import { cleanupAll } from "../../support/proc.ts"
import { testDatabase } from "../../support/db.ts"

afterAll(cleanupAll)

async function federationWith(env: Record<string, string>) {
  const db = await testDatabase()
  const clock = new ManualClock()
  const config = loadConfig("pool", {}, { POOL_NAME: "pool-a", POOL_URL: "http://10.0.0.1:18081", ...env })
  const fed = new Federation(db.sql, generateIdentity(), config, clock, "http://10.0.0.1:18081")
  const bond = async (name: string, trust: number) => {
    const id = generateIdentity()
    await db.sql`insert into federation_peers (atom_id, pubkey, url, pool_name, trust_level) values (${id.atomId}, ${id.pubkey}, ${`http://${name}.lan:18081`}, ${name}, ${trust})`
    return id.atomId
  }
  const b = await bond("pool-b", 3)
  await bond("pool-trust-1", 1)
  await bond("pool-trust-2", 2)
  const revoked = await bond("pool-revoked", 3)
  await peers.revokePeer(db.sql, revoked, clock)
  return { fed, b }
}

test("a pool lists itself, then only its trusted, non-revoked peers: URLs and names, nothing else", async () => {
  const { fed, b } = await federationWith({})
  const list = await fed.entryPools()
  expect(list).toEqual([
    { url: "http://10.0.0.1:18081", pool_name: "pool-a", atom_id: fed.identity.atomId },
    { url: "http://pool-b.lan:18081", pool_name: "pool-b", atom_id: b },
  ])
})

test("a lower MIN_TRUST_LEVEL lists the peers trusted at that level", async () => {
  const { fed } = await federationWith({ MIN_TRUST_LEVEL: "2" })
  expect((await fed.entryPools()).map((p) => p.pool_name)).toEqual(["pool-a", "pool-b", "pool-trust-2"])
})

test("with federation off a pool lists only itself", async () => {
  const { fed } = await federationWith({ CELLULE_FED: "off" })
  expect((await fed.entryPools()).map((p) => p.pool_name)).toEqual(["pool-a"])
})
