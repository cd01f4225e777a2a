// Auto-promotion (federation.auto_promote) over a real database and a real ping endpoint: after 24 h of
// stable probes a bond made with a token is promoted; one made otherwise (a URL listed in
// CELLULE_BOND_PEERS, an admin's token-less register) never is. And federation_rejects stays bounded.
import { afterAll, expect, test } from "bun:test"
import { join } from "node:path"
import { ManualClock } from "../../../core/clock.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { generateIdentity } from "../../../core/federation/identity.ts"
import { Federation } from "../../../core/federation/index.ts"
import { getPeer, upsertPeer } from "../../../core/federation/peers.ts"
import { pruneRejects } from "../../../core/federation/gossip.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll, onCleanup, tempDir } from "../../support/proc.ts"

afterAll(cleanupAll)
const database = testDatabase()

test("after 24 h of stability only a bond made with a token or a pinned key is auto-promoted", async () => {
  const db = await database
  const clock = new ManualClock()
  const config = loadConfig("pool", {}, { CELLULE_FED_KEY_DIR: join(tempDir(), "fed"), CELLULE_DATA_DIR: tempDir() })
  const fed = await Federation.open(db.sql, config, clock, "http://10.0.0.1:8080")
  const vouched = generateIdentity()
  const claimed = generateIdentity()
  // Each peer's ping answers as itself.
  const servers = [vouched, claimed].map((id) =>
    Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json({ atom_id: id.atomId }) }),
  )
  onCleanup(() => {
    for (const s of servers) s.stop(true)
  })
  const bond = (id: typeof vouched, port: number, via: "token" | "admin") =>
    upsertPeer(db.sql, { atom_id: id.atomId, pubkey: id.pubkey, url: `http://127.0.0.1:${port}`, pool_name: via, via })
  await bond(vouched, servers[0].port!, "token")
  await bond(claimed, servers[1].port!, "admin")
  await db.sql`update federation_peers set first_seen = ${new Date(clock.now())}`
  await db.sql`insert into cluster_settings (key, value, hlc, origin) values ('federation.auto_promote', 'true'::jsonb, '0', 'test')`

  const probe = () => (fed.probes as unknown as { tick(): Promise<void> }).tick()
  await probe() // marks both stable now
  clock.advance(25 * 3600_000)
  await probe()
  expect((await getPeer(db.sql, vouched.atomId))!.trust_level).toBe(config.minTrustLevel)
  expect((await getPeer(db.sql, claimed.atomId))!.trust_level).toBe(1)
}, 240_000)

test("federation_rejects is pruned by age, then down to the newest rows", async () => {
  const db = await database
  const now = Date.UTC(2026, 5, 1)
  const day = 86_400_000
  for (let i = 0; i < 30; i++)
    await db.sql`insert into federation_rejects (at, reason) values (${new Date(now - (i < 5 ? 40 * day : i * 60_000))}, ${`r${i}`})`
  await pruneRejects(db.sql, now, { maxAgeMs: 30 * day, maxRows: 20 })
  const left = await db.sql<{ reason: string }[]>`select reason from federation_rejects order by id`
  expect(left.length).toBe(20)
  // The five 40-day-old ones went first, then the oldest-numbered of the rest.
  expect(left.map((r) => r.reason)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i + 10}`))
}, 240_000)
