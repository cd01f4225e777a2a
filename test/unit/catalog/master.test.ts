// Catalogue master / satellite (admin guide §4.6.3): the configured master claims epoch 1; a satellite's
// catalogue writes answer 409 catalogue_read_only with the master's URL; two promotions at once on two
// pools (same epoch), each then receiving the other's record in either order, leave exactly one master;
// an old master that comes back reads the newer record and stays a satellite.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { CatalogueRole } from "../../../core/catalog/master.ts"
import { catalogueMaster } from "../../../core/federation/kinds/catalogue-master.ts"
import type { Database } from "../../../core/db/client.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"

afterAll(cleanupAll)

type Sent = { payload: unknown; hlc: string; origin: string }

/** A pool: its database, its role, and the envelopes it published (delivered to others by hand). */
function pool(db: Database, id: string, configuredMaster: boolean, clock: { t: number }) {
  const sent: Sent[] = []
  const role = new CatalogueRole(
    db.sql,
    { id: () => id, url: () => `http://${id}:8080` },
    configuredMaster,
    async (_kind, payload) => {
      const stamp = { hlc: String(clock.t++).padStart(12, "0"), origin: id }
      await catalogueMaster.apply(db.sql, catalogueMaster.parse(payload), stamp)
      sent.push({ payload, ...stamp })
    },
  )
  const deliver = async (from: Sent[]) => {
    for (const e of from) await catalogueMaster.apply(db.sql, catalogueMaster.parse(e.payload), e)
  }
  return { db, role, sent, deliver }
}

describe("catalogue master", () => {
  const clock = { t: 1 }
  let a: ReturnType<typeof pool>
  let b: ReturnType<typeof pool>
  let c: ReturnType<typeof pool>
  beforeAll(async () => {
    a = pool(await testDatabase(), "pool-a", true, clock)
    b = pool(await testDatabase(), "pool-b", false, clock)
    c = pool(await testDatabase(), "pool-c", false, clock)
  })

  test("the configured master claims epoch 1; satellites learn it and refuse writes with its URL", async () => {
    await a.role.claimAtBoot()
    await b.role.claimAtBoot()
    expect(b.sent).toEqual([])
    await b.deliver(a.sent)
    await c.deliver(a.sent)
    expect((await a.role.view()).role).toBe("master")
    expect((await b.role.view()).role).toBe("satellite")
    const e = await b.role.requireWriter().catch((e) => e)
    expect(e).toMatchObject({ code: "catalogue_read_only", status: 409, masterUrl: "http://pool-a:8080" })
    expect(e.toJSON()).toMatchObject({ error: "catalogue_read_only", master_url: "http://pool-a:8080" })
    await a.role.requireWriter()
  })

  test("two promotions at once on two satellites (the master is down) leave exactly one master everywhere", async () => {
    const [pb, pc] = await Promise.all([b.role.promote("admin-b@x"), c.role.promote("admin-c@x")])
    expect(pb.master?.epoch).toBe(2)
    expect(pc.master?.epoch).toBe(2)
    const bSent = b.sent.slice()
    const cSent = c.sent.slice()
    // Gossip in opposite orders on each side.
    await b.deliver(cSent)
    await c.deliver(bSent)
    const roles = [(await b.role.view()).role, (await c.role.view()).role]
    expect(roles.filter((r) => r === "master")).toHaveLength(1)
    expect((await b.role.view()).master?.pool).toBe((await c.role.view()).master?.pool)
  })

  test("the old master returns: it reads the newer record and is a satellite, even configured as master", async () => {
    await a.role.claimAtBoot() // a record exists (its own, epoch 1): no new claim
    await a.deliver([...b.sent, ...c.sent])
    const v = await a.role.view()
    expect(v.role).toBe("satellite")
    expect(v.master?.epoch).toBe(2)
    await expect(a.role.requireWriter()).rejects.toMatchObject({ code: "catalogue_read_only" })
    // A stale epoch-1 record replayed changes nothing.
    await a.deliver(a.sent.slice(0, 1))
    expect((await a.role.view()).master?.epoch).toBe(2)
  })
})
