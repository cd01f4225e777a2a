// Signed gossip on real embedded databases: what is applied, what is refused (and recorded), and why.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll } from "../../support/proc.ts"
import { canonical, signEnvelope, signingBytes, type Envelope } from "../../../core/federation/envelope.ts"
import { generateIdentity, verifySig } from "../../../core/federation/identity.ts"
import { deliver, makeNodes, missing, pub, state, type Node } from "./_inproc.ts"

let a: Node, b: Node, c: Node
beforeAll(async () => {
  ;[a, b, c] = await makeNodes(3)
})
afterAll(cleanupAll)

describe("canonical encoding", () => {
  test("sorts keys at every depth and drops undefined", () => {
    expect(canonical({ b: 1, a: { d: [1, { z: 1, y: "é" }], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[1,{"y":"é","z":1}]},"b":1}',
    )
  })
  test("refuses non-finite numbers", () => {
    expect(() => canonical({ x: Infinity })).toThrow()
  })
  test("signature covers every field", () => {
    const id = generateIdentity()
    const e = signEnvelope(id, {
      seq: 1,
      hlc: "0001767225600000.00000",
      kind: "setting",
      payload: { key: "flags.x", value: true },
    })
    expect(verifySig(id.pubkey, signingBytes(e), e.sig)).toBe(true)
    for (const tampered of [
      { ...e, seq: 2 },
      { ...e, payload: { key: "flags.x", value: false } },
      { ...e, kind: "site" },
      { ...e, hlc: "0001767225600000.00001" },
    ])
      expect(verifySig(id.pubkey, signingBytes(tampered), e.sig)).toBe(false)
  })
})

describe("ingest", () => {
  test("a trusted origin's envelope is applied once and the state matches", async () => {
    const e = await pub(a, "setting", { key: "moe_local_config", value: { experts: 4 } })
    expect(await deliver(b, a, [e])).toMatchObject({ applied: 1, refused: [] })
    const again = await deliver(b, a, [e])
    expect(again.applied).toBe(0)
    expect(again.refused[0].reason).toBe("replay")
    expect(await state(b)).toBe(await state(a))
  })

  const forge = (e: Envelope, over: Partial<Envelope>) => ({ ...e, ...over })
  test.each([
    ["unsigned", async (e: Envelope) => forge(e, { sig: undefined as any }), "envelope_unsigned"],
    [
      "bad signature",
      async (e: Envelope) => forge(e, { payload: { key: "flags.evil", value: true } }),
      "signature_invalid",
    ],
    ["signed by an unknown key", async (e: Envelope) => signEnvelope(generateIdentity(), e), "origin_unknown"],
    [
      "claims another origin",
      async (e: Envelope) => ({ ...signEnvelope(generateIdentity(), e), origin: e.origin }),
      "signature_invalid",
    ],
    ["malformed", async () => ({ hello: 1, sig: "x" }), "envelope_malformed"],
  ])("%s is refused and recorded", async (_name, make, reason) => {
    const e = await pub(a, "setting", { key: "flags.rag_fanout", value: true })
    const bad = await make(e)
    const res = await deliver(c, b, [bad])
    expect(res.refused.map((r) => r.reason)).toEqual([reason as any])
    const [row] = await c.db.sql`select reason from federation_rejects order by id desc limit 1`
    expect(row.reason).toBe(reason)
  })

  test("an origin below MIN_TRUST_LEVEL is refused even with a valid signature", async () => {
    const [x, y] = await makeNodes(2, 1)
    const e = await pub(x, "setting", { key: "flags.smart_routing", value: true })
    const res = await deliver(y, x, [e])
    expect(res.refused[0].reason).toBe("origin_untrusted")
    expect((await y.db.sql`select count(*)::int as n from cluster_settings`)[0].n).toBe(0)
  })

  test("a gap is skipped, then filled in order by anti-entropy", async () => {
    const e1 = await pub(c, "site", { site_id: "paris", name: "Paris", headcount: 120 })
    const e2 = await pub(c, "site", { site_id: "paris", name: "Paris HQ", headcount: 130 })
    const late = await missing(c, a)
    expect((await deliver(a, c, [e2])).refused[0].reason).toBe("sequence_gap")
    expect(late.map((e) => e.seq)).toEqual([e1.seq, e2.seq])
    expect((await deliver(a, c, late)).applied).toBe(2)
    const [site] = await a.db.sql`select name, headcount from sites where site_id = 'paris'`
    expect(site).toEqual({ name: "Paris HQ", headcount: 130 })
  })

  test("two different envelopes with the same sequence number are an equivocation", async () => {
    const e = await pub(b, "setting", { key: "flags.eq", value: true })
    await deliver(a, b, await missing(b, a))
    const twin = signEnvelope(b.id, {
      seq: e.seq,
      hlc: e.hlc,
      kind: "setting",
      payload: { key: "flags.eq", value: false },
    })
    expect((await deliver(a, b, [twin])).refused[0].reason).toBe("equivocation")
  })

  test("observe mode verifies and logs but does not apply", async () => {
    const [x, y] = await makeNodes(2)
    const e = await pub(x, "project", { id: "prj_observe0001", name: "Observed" })
    expect(await deliver(y, x, [e], "observe")).toMatchObject({ observed: 1 })
    expect((await y.db.sql`select count(*)::int as n from projects`)[0].n).toBe(0)
    expect((await y.db.sql`select status from federation_log`)[0].status).toBe("observed")
  })

  test("federation_log is append-only", async () => {
    await expect(a.db.sql`delete from federation_log`).rejects.toThrow(/append-only/)
  })

  test("a payload a kind refuses is refused before it is signed", async () => {
    await expect(pub(a, "setting", { key: "not_cluster_wide", value: 1 })).rejects.toMatchObject({
      code: "setting_not_cluster_wide",
    })
    await expect(pub(a, "setting", { key: "flags.x", value: "yes" })).rejects.toMatchObject({ code: "payload_invalid" })
  })
})
