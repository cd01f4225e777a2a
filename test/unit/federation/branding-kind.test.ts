// The "branding" kind on real embedded databases: the wizard's checks run again on every payload (a
// peer's signed logo is sanitised on arrival, an oversize or mistyped one refused and recorded), the
// later stamp wins, and the edit itself follows the settings' master rule (409 on a satellite).
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { signEnvelope } from "../../../core/federation/envelope.ts"
import { branding as kind } from "../../../core/federation/kinds/branding.ts"
import { KINDS } from "../../../core/federation/kinds/index.ts"
import { MAX_LOGO_BYTES } from "../../../core/setup/logo.ts"
import { updateBranding } from "../../../core/setup/branding.ts"
import { readLogo, readProfile } from "../../../core/setup/state.ts"
import { cleanupAll } from "../../support/proc.ts"
import { deliver, makeNodes, type Node } from "./_inproc.ts"

let a: Node, b: Node
beforeAll(async () => {
  ;[a, b] = await makeNodes(2)
})
afterAll(cleanupAll)

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64")
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])
const EVIL_SVG = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10" onload="steal()"><script>fetch('/v1/admin/api-keys')</script><a xlink:href="javascript:alert(1)"><rect id="r" width="10" height="10"/></a><use href="#r"/></svg>`
const row = async (n: Node) =>
  (await n.db.sql`select company_name, logo, logo_mime, hlc, origin from cluster_branding`)[0] as
    | { company_name: string; logo: Uint8Array | null; logo_mime: string | null; hlc: string; origin: string }
    | undefined

test("the kind is registered", () => {
  expect(KINDS.get("branding")).toBe(kind)
})

describe("parse: the wizard's checks on every payload", () => {
  test.each([
    ["not an object", "Dupont"],
    ["no company", { logo: null }],
    ["an empty company", { company: "   ", logo: null }],
    ["a company over 120 characters", { company: "x".repeat(121), logo: null }],
    ["a logo over 500 KB", { company: "Dupont", logo: { base64: b64(new Uint8Array(MAX_LOGO_BYTES + 1).fill(0x20)) } }],
    ["an empty logo", { company: "Dupont", logo: { base64: "" } }],
    ["a GIF (not PNG, JPEG or SVG)", { company: "Dupont", logo: { base64: b64("GIF89a\x01\x00\x01\x00") } }],
    ["HTML posing as a logo", { company: "Dupont", logo: { base64: b64("<html><script>x()</script></html>") } }],
    ["a logo that is not base64", { company: "Dupont", logo: { base64: "<svg>" } }],
    ["a PNG declared as SVG", { company: "Dupont", logo: { mime: "image/svg+xml", base64: b64(PNG) } }],
    ["an SVG with nothing left once sanitised", { company: "Dupont", logo: { base64: b64("<svg<script></script>") } }],
  ])("%s is refused as payload_invalid", (_what, p) => {
    expect(() => kind.parse(p)).toThrow(expect.objectContaining({ code: "payload_invalid" }))
  })

  test("the company name is normalised as the wizard does; a PNG passes unchanged", () => {
    expect(kind.parse({ company: "  Dupont \n  Avocats ", logo: { mime: "image/png", base64: b64(PNG) } })).toEqual({
      company: "Dupont Avocats",
      logo: { mime: "image/png", base64: b64(PNG) },
    })
  })

  test("an SVG is sanitised: no <script>, no on* handler, no javascript: link; the drawing stays", () => {
    const p = kind.parse({ company: "Dupont", logo: { mime: "image/svg+xml", base64: b64(EVIL_SVG) } })
    const svg = Buffer.from(p.logo!.base64, "base64").toString()
    expect(p.logo!.mime).toBe("image/svg+xml")
    expect(svg).not.toMatch(/script|onload|javascript:|steal|alert/i)
    expect(svg).toContain('<rect id="r" width="10" height="10"/>')
    expect(svg).toContain('href="#r"')
  })
})

describe("received from a peer", () => {
  // Signed by a bonded, trusted peer but never parsed there (a modified or hostile pool): only the
  // signature is the peer's; the content is judged here.
  const forged = (seq: number, payload: unknown) =>
    signEnvelope(a.id, { seq, hlc: a.hlc.tick(), kind: "branding", payload })

  test("a hostile SVG is applied sanitised; the stored logo carries no script", async () => {
    const e = forged(1, { company: "Dupont Avocats", logo: { mime: "image/svg+xml", base64: b64(EVIL_SVG) } })
    expect(await deliver(b, a, [e])).toMatchObject({ applied: 1, refused: [] })
    const r = (await row(b))!
    expect(r).toMatchObject({ company_name: "Dupont Avocats", logo_mime: "image/svg+xml", origin: a.id.atomId })
    const stored = Buffer.from(r.logo!).toString()
    expect(stored).not.toMatch(/script|onload|javascript:/i)
    expect(stored).toContain("<rect")
  })

  test("an oversize or mistyped logo is refused and listed with the other rejected envelopes; nothing changes", async () => {
    const before = await row(b)
    const e = forged(2, { company: "Intrus", logo: { base64: b64(new Uint8Array(MAX_LOGO_BYTES + 10).fill(0x20)) } })
    const res = await deliver(b, a, [e])
    expect(res.refused).toEqual([{ origin: a.id.atomId, seq: 2, reason: "payload_invalid" }])
    const [rej] = await b.db.sql`select kind, reason, detail from federation_rejects order by id desc limit 1`
    expect(rej).toMatchObject({ kind: "branding", reason: "payload_invalid" })
    expect(rej.detail).toContain("logo_too_large")
    expect(await row(b)).toEqual(before)
  })
})

describe("apply: last writer wins", () => {
  test("a later stamp wins; an older or equal one is ignored; removing the logo travels too", async () => {
    const sql = a.db.sql
    const v1 = kind.parse({ company: "Alpha", logo: { base64: b64(PNG) } })
    const v0 = kind.parse({ company: "Older", logo: null })
    expect(await kind.apply(sql, v1, { hlc: "0001767225600000.00005", origin: "atom-x" })).toBe(true)
    expect(await kind.apply(sql, v0, { hlc: "0001767225600000.00004", origin: "atom-y" })).toBe(false)
    expect(await kind.apply(sql, v0, { hlc: "0001767225600000.00005", origin: "atom-x" })).toBe(false)
    expect((await row(a))!).toMatchObject({ company_name: "Alpha", logo_mime: "image/png" })
    expect(await kind.apply(sql, v0, { hlc: "0001767225600000.00006", origin: "atom-y" })).toBe(true)
    expect((await row(a))!).toMatchObject({ company_name: "Older", logo: null, logo_mime: null })
  })
})

describe("updateBranding (the edit)", () => {
  let n: Node
  beforeAll(async () => {
    // Node a again (a third database costs seconds), from a cluster no one has re-branded yet.
    n = a
    await n.db.sql`delete from cluster_branding`
    await n.db.sql`insert into cluster_profile (id, company_name, sector, logo, logo_mime, audit_grade,
                     description_template, cpu_workers_enabled, gpu_servers, model_tiers)
                   values (1, 'Wizard Co', 'LAW', ${Buffer.from(PNG)}, 'image/png', 'basic', '', true, 0, ${["fast"]})`
  })

  test("a satellite refuses with 409 settings_read_only and the master's URL, after the wizard's checks", async () => {
    const role = async () => ({ role: "satellite" as const, master_pool: "atom-m", master_url: "http://master:8080" })
    await expect(updateBranding(n.db.sql, { company: "x".repeat(200) }, { role })).rejects.toMatchObject({
      code: "company_invalid",
      status: 400,
    })
    const err = await updateBranding(n.db.sql, { company: "Satellite Co" }, { role }).catch((e) => e)
    expect(err).toMatchObject({ code: "settings_read_only", status: 409 })
    expect(err.extra()).toEqual({ master_url: "http://master:8080" })
    expect((await readProfile(n.db.sql))!.company).toBe("Wizard Co")
  })

  test("the master publishes the whole record: a new name keeps the logo; removing the logo keeps the name", async () => {
    const sent: unknown[] = []
    const publish = async (k: string, payload: unknown) => {
      expect(k).toBe("branding")
      sent.push(payload)
      await kind.apply(n.db.sql, kind.parse(payload), { hlc: `000176722560000${sent.length}.00000`, origin: "me" })
    }
    const role = async () => ({ role: "master" as const, master_pool: null, master_url: null })
    await updateBranding(n.db.sql, { company: "Nouveau Cabinet" }, { publish, role })
    expect(sent[0]).toEqual({ company: "Nouveau Cabinet", logo: { mime: "image/png", base64: b64(PNG) } })
    expect(await readProfile(n.db.sql)).toMatchObject({ company: "Nouveau Cabinet", hasLogo: true })
    await updateBranding(n.db.sql, { removeLogo: true }, { publish, role })
    expect(sent[1]).toEqual({ company: "Nouveau Cabinet", logo: null })
    // Removed cluster-wide: the wizard's logo in cluster_profile no longer shows.
    expect(await readProfile(n.db.sql)).toMatchObject({ company: "Nouveau Cabinet", hasLogo: false })
    expect(await readLogo(n.db.sql)).toBeNull()
  })
})
