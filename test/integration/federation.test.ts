// Three real pools on loopback, each with its own embedded database: bonded, promoted, converging
// within 2 s (settings, branding); forged, unsigned, replayed and trust-1 envelopes refused and recorded;
// a killed pool catches up by anti-entropy after restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { generateKeyPairSync } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cleanupAll, freePort, tempDir } from "../support/proc.ts"
import { signEnvelope, type Envelope } from "../../core/federation/envelope.ts"
import { generateIdentity, identityFromPrivateKey, PRIVATE_KEY_FILE } from "../../core/federation/identity.ts"
import { signedFetch } from "../../core/federation/transport.ts"
import { admin, bondAll, makeMaster, settingOn, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { TEST_ADMIN } from "../support/proc.ts"
import { until } from "../support/until.ts"

let pools: FedPool[]
let ids: { atom_id: string }[]
beforeAll(async () => {
  pools = await Promise.all(["pool-a", "pool-b", "pool-c"].map((name) => startFedPool({ name })))
  ids = await bondAll(pools)
  // pool-a takes the setting changes (the catalogue master); pool-b and pool-c are its satellites.
  await makeMaster(pools, 0)
}, 300_000)
afterAll(cleanupAll)

const sameJson = (a: unknown, b: unknown) => Bun.deepEquals(a, b)

/** A data dir holding a fresh federation key, and that key's identity. */
function withKey() {
  const dataDir = tempDir("cellule-fed-pinned-")
  const { privateKey } = generateKeyPairSync("ed25519")
  mkdirSync(join(dataDir, "federation"), { recursive: true, mode: 0o700 })
  writeFileSync(join(dataDir, "federation", PRIVATE_KEY_FILE), privateKey.export({ format: "pem", type: "pkcs8" }), {
    mode: 0o600,
  })
  return { dataDir, id: identityFromPrivateKey(privateKey) }
}

describe("three bonded pools", () => {
  test("bonds are recorded on both sides and promoted to trust 3; topology says LAN", async () => {
    for (const p of pools) {
      const { peers } = await admin(p, "GET", "/v1/federation/peers")
      expect(peers.map((x: any) => x.trust_level)).toEqual([3, 3])
    }
    const topo = await until(
      "links measured as LAN",
      async () => {
        const t = await admin(pools[0], "GET", "/v1/federation/topology")
        return t.links.every((l: any) => l.link === "lan") && t
      },
      15_000,
    )
    expect(topo.value.network_type).toBe("lan")
  })

  test("bonding and trust changes are in each pool's audit log, with the peer or the admin as actor", async () => {
    const audit = async (p: FedPool, action: string) =>
      (await admin(p, "GET", `/v1/admin/audit?action=${action}&limit=50`)).data as any[]
    // pool-a registered with b and c, then promoted both
    const created = await audit(pools[0], "bond.create")
    for (const peer of [pools[1], pools[2]])
      expect(created).toContainEqual(
        expect.objectContaining({
          actor: { kind: "admin", id: TEST_ADMIN.email },
          target: `url:${peer.url}`,
          outcome: "success",
        }),
      )
    const granted = await audit(pools[0], "trust.grant")
    for (const id of [ids[1], ids[2]])
      expect(granted).toContainEqual(
        expect.objectContaining({ target: `peer:${id.atom_id}`, outcome: "success", details: { level: 3 } }),
      )
    // pool-b issued the token pool-a used, and accepted pool-a's hello
    expect(await audit(pools[1], "bond.create")).toContainEqual(
      expect.objectContaining({ details: { attachment_token: true }, outcome: "success" }),
    )
    expect(await audit(pools[1], "bond.accept")).toContainEqual(
      expect.objectContaining({ actor: { kind: "peer", id: ids[0].atom_id }, outcome: "success" }),
    )
    // revoking or unbonding a pool that is not a peer is refused, and the refusal is recorded
    const nobody = "atom_00000000000000000000000000000000"
    const post = (method: string, path: string) =>
      fetch(pools[0].url + path, { method, headers: { "x-cellule-user": TEST_ADMIN.email } })
    expect((await post("POST", `/v1/federation/peers/${nobody}/revoke`)).status).toBe(404)
    expect((await post("DELETE", `/v1/federation/peers/${nobody}`)).status).toBe(404)
    expect((await audit(pools[0], "trust.revoke"))[0]).toMatchObject({ target: `peer:${nobody}`, outcome: "failure" })
    expect((await audit(pools[0], "bond.revoke"))[0]).toMatchObject({ target: `peer:${nobody}`, outcome: "failure" })
  })

  test("a cluster-wide setting changed on one pool shows on every pool within 2 s", async () => {
    const value = { profile: "balanced", experts: 4, at: Date.now() }
    await admin(pools[0], "PUT", "/v1/admin/settings/moe_local_config", { value })
    const seen = await Promise.all(
      pools
        .slice(1)
        .map((p) =>
          until(`setting on ${p.name}`, async () => sameJson(await settingOn(p, "moe_local_config"), value), 2000),
        ),
    )
    console.log(`convergence: ${seen.map((s) => `${s.value ? Math.round(s.ms) : "?"} ms`).join(", ")}`)
    for (const s of seen) expect(s.ms).toBeLessThan(2000)
  })

  test("an Advanced setting changed on the master shows on the two satellites within 2 s, as an admin's change made there", async () => {
    const value = { context_size: 2048, parallel: 3, flash_attention: true, kv_cache_type: "q8_0" }
    await admin(pools[0], "PUT", "/v1/admin/settings/runtime_flags.gpu-small", { value })
    const seen = await Promise.all(
      pools.slice(1).map((p) =>
        until(
          `runtime flags on ${p.name}`,
          async () => {
            const { settings } = await admin(p, "GET", "/v1/admin/settings")
            const s = settings.find((x: any) => x.key === "runtime_flags.gpu-small")
            return sameJson(s?.value, value) && s
          },
          2000,
          20,
        ),
      ),
    )
    console.log(`advanced setting convergence: ${seen.map((s) => `${Math.round(s.ms)} ms`).join(", ")}`)
    for (const s of seen) {
      expect(s.ms).toBeLessThan(2000)
      // Read-only on a satellite: shown with where it was changed.
      expect(s.value).toMatchObject({ source: "admin", editable: false, last_change: { pool: "pool-a" } })
    }
    // Typed on arrival too: the same refusal on every pool, nothing stored.
    const bad = await fetch(`${pools[1].url}/v1/admin/settings/runtime_flags.gpu-small`, {
      method: "PUT",
      headers: { "x-cellule-user": TEST_ADMIN.email, "content-type": "application/json" },
      body: JSON.stringify({ value: { threads: 0 } }),
    })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toBe("setting_invalid")
    // A valid change on a satellite is refused with the master's URL; nothing is published there.
    const satellite = await fetch(`${pools[1].url}/v1/admin/settings/runtime_flags.gpu-small`, {
      method: "PUT",
      headers: { "x-cellule-user": TEST_ADMIN.email, "content-type": "application/json" },
      body: JSON.stringify({ value: { context_size: 1024 } }),
    })
    expect(satellite.status).toBe(409)
    expect(await satellite.json()).toMatchObject({ error: "settings_read_only", master_url: pools[0].url })
    expect(await settingOn(pools[0], "runtime_flags.gpu-small")).toEqual(value)
    // The page says so plainly on the satellite, and links the master; the master shows its forms.
    const page = (p: FedPool) =>
      fetch(`${p.url}/settings`, { headers: { "x-cellule-user": TEST_ADMIN.email, cookie: "cellule_lang=en" } }).then(
        (r) => r.text(),
      )
    const sat = await page(pools[1])
    expect(sat).toContain('id="settings-role" data-role="satellite"')
    expect(sat).toContain(`href="${pools[0].url}/settings"`)
    const box = sat.match(/<section class="setting card" id="setting-runtime_flags-gpu-small"[\s\S]*?<\/section>/)?.[0]
    expect(box).toBeDefined()
    expect(box).not.toContain('type="submit"')
    expect(sat).toContain("Read-only here: change it on the master pool.")
    expect(await page(pools[0])).toContain('id="settings-role" data-role="master"')
  })

  test("branding changed on the master shows on the satellites' dashboards within 2 s, its SVG sanitised; a satellite's edit → 409 with the master's URL", async () => {
    const company = `Cabinet Fédéré ${Date.now() % 1000}`
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="steal()"><script>alert(1)</script><rect width="10" height="10" fill="#123456"/></svg>`
    await admin(pools[0], "PUT", "/v1/admin/branding", {
      company,
      logo: { base64: Buffer.from(svg).toString("base64") },
    })
    const dashboard = (p: FedPool) =>
      fetch(`${p.url}/`, { headers: { "x-cellule-user": TEST_ADMIN.email, cookie: "cellule_lang=en" } }).then((r) =>
        r.text(),
      )
    const seen = await Promise.all(
      pools
        .slice(1)
        .map((p) =>
          until(
            `branding on ${p.name}`,
            async () => (await dashboard(p)).includes(`<span class="company">${company}</span>`),
            2000,
            20,
          ),
        ),
    )
    console.log(`branding convergence: ${seen.map((s) => `${Math.round(s.ms)} ms`).join(", ")}`)
    for (const s of seen) expect(s.ms).toBeLessThan(2000)
    for (const p of pools.slice(1)) {
      expect(await dashboard(p)).toContain('<img src="/setup/logo" alt="" class="logo">')
      const logo = await fetch(`${p.url}/setup/logo`)
      expect(logo.headers.get("content-type")).toContain("image/svg+xml")
      const stored = await logo.text()
      expect(stored).toContain('fill="#123456"')
      expect(stored).not.toMatch(/script|onload|steal/)
      expect(await admin(p, "GET", "/v1/admin/branding")).toMatchObject({
        company,
        has_logo: true,
        role: { role: "satellite", master_url: pools[0].url },
      })
    }
    // A satellite's edit, API or form, is refused with the master's URL; nothing changes anywhere.
    const put = await fetch(`${pools[1].url}/v1/admin/branding`, {
      method: "PUT",
      headers: { "x-cellule-user": TEST_ADMIN.email, "content-type": "application/json" },
      body: JSON.stringify({ company: "Satellite Co" }),
    })
    expect(put.status).toBe(409)
    expect(await put.json()).toMatchObject({ error: "settings_read_only", master_url: pools[0].url })
    const form = new FormData()
    form.append("company", "Satellite Co")
    const posted = await fetch(`${pools[1].url}/settings/branding`, {
      method: "POST",
      headers: { "x-cellule-user": TEST_ADMIN.email, cookie: "cellule_lang=fr" },
      body: form,
    })
    expect(posted.status).toBe(409)
    const page = await posted.text()
    expect(page).toContain("settings_read_only")
    // The box says where branding is managed (FR), with no form that could only be refused.
    const box = page.match(/<section class="setting card" id="branding"[\s\S]*?<\/section>/)?.[0] ?? ""
    expect(box).toContain('data-role="satellite"')
    expect(box).toContain("se gèrent sur le maître du catalogue")
    expect(box).toContain(`href="${pools[0].url}/settings#branding"`)
    expect(box).not.toContain("<form")
    for (const p of pools) expect((await admin(p, "GET", "/v1/admin/branding")).company).toBe(company)
  })

  test("sites and projects replicate too", async () => {
    await admin(pools[1], "PUT", "/v1/admin/sites/lyon", { name: "Lyon", headcount: 42 })
    const prj = await admin(pools[2], "POST", "/v1/admin/projects", { name: "Audit 2026" })
    for (const p of pools) {
      await until(
        `site+project on ${p.name}`,
        async () => {
          const { sites } = await admin(p, "GET", "/v1/admin/sites")
          const { projects } = await admin(p, "GET", "/v1/admin/projects")
          return (
            sites.some((s: any) => s.site_id === "lyon" && s.headcount === 42) &&
            projects.some((x: any) => x.id === prj.id)
          )
        },
        2000,
      )
    }
  })

  test("forged, unsigned, replayed and trust-1-origin envelopes are refused and logged", async () => {
    const a = pools[0]
    const mallory = generateIdentity()
    const { token } = await admin(a, "POST", "/v1/federation/admin/attachment-tokens")
    // A bonded (trust 1) but never promoted pool.
    const hello = await signedFetch(mallory, a.url, "/v1/federation/p2p/hello", {
      body: { url: "http://127.0.0.9:1", pool_name: "mallory", token, nonce_ts: Date.now() },
      now: Date.now(),
      withPubkey: true,
    })
    expect(hello.atom_id).toBe(ids[0].atom_id)
    // The token was single-use.
    const other = generateIdentity()
    await expect(
      signedFetch(other, a.url, "/v1/federation/p2p/hello", {
        body: { url: "http://127.0.0.9:2", token, nonce_ts: Date.now() },
        now: Date.now(),
        withPubkey: true,
      }),
    ).rejects.toMatchObject({ code: "attachment_token_required" })

    const { log } = await admin(a, "GET", "/v1/federation/log?limit=1000")
    const fromB = log.find((e: any) => e.origin === ids[1].atom_id)
    const real: Envelope = {
      v: 1,
      origin: fromB.origin,
      seq: fromB.seq,
      hlc: fromB.hlc,
      kind: fromB.kind,
      payload: JSON.parse(fromB.payload),
      sig: fromB.sig,
    }
    const hw = (await admin(a, "GET", "/v1/federation/status")).high_water[ids[1].atom_id]
    const batch = [
      { ...real, seq: hw + 1, sig: undefined }, // unsigned
      {
        ...signEnvelope(mallory, {
          seq: hw + 1,
          hlc: real.hlc,
          kind: "setting",
          payload: { key: "flags.evil", value: true },
        }),
        origin: ids[1].atom_id,
      }, // forged as B
      real, // replay
      signEnvelope(mallory, { seq: 1, hlc: real.hlc, kind: "setting", payload: { key: "flags.evil", value: true } }), // trust-1 origin
    ]
    const res = await signedFetch(mallory, a.url, "/v1/federation/p2p/gossip", {
      body: { envelopes: batch },
      now: Date.now(),
    })
    expect(res.refused.map((r: any) => r.reason)).toEqual([
      "envelope_unsigned",
      "signature_invalid",
      "replay",
      "origin_untrusted",
    ])
    expect(res.applied).toBe(0)
    const { rejects } = await admin(a, "GET", "/v1/federation/rejects?limit=10")
    expect(
      rejects
        .slice(0, 4)
        .map((r: any) => r.reason)
        .sort(),
    ).toEqual(["envelope_unsigned", "origin_untrusted", "replay", "signature_invalid"])
    expect(a.stderr()).toMatch(/refused envelope .* signature_invalid/)
    expect(await settingOn(a, "flags.evil")).toBeUndefined()

    // A request without the pool-to-pool signature never reaches the body parser.
    const raw = await fetch(`${a.url}/v1/federation/p2p/gossip`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelopes: [real] }),
    })
    expect(raw.status).toBe(401)
    expect(((await raw.json()) as any).error).toBe("request_unsigned")
    // Nor does mallory, at trust 1, get to pull the cluster's state.
    await expect(
      signedFetch(mallory, a.url, "/v1/federation/p2p/pull", { body: { have: {} }, now: Date.now() }),
    ).rejects.toMatchObject({ code: "peer_untrusted" })
  })

  test("dashboard: Federation page lists the bonded sites and issues a one-time token; Topology shows the matrix", async () => {
    const h = { "x-cellule-user": "admin@test.local" }
    const page = await (await fetch(`${pools[0].url}/federation`, { headers: h })).text()
    expect(page).toContain("pool-b")
    expect(page).toContain("pool-c")
    expect(page).toContain(ids[0].atom_id)
    const form = await fetch(`${pools[0].url}/federation/token`, {
      method: "POST",
      headers: { ...h, "content-type": "application/x-www-form-urlencoded" },
      body: "",
    })
    expect(form.status).toBe(200)
    expect(await form.text()).toMatch(/id="fed-token"><code>cfa_/)
    const fr = await (
      await fetch(`${pools[0].url}/topology`, { headers: { ...h, cookie: "cellule_lang=fr", "accept-language": "fr" } })
    ).text()
    expect(fr).toContain('id="latency-matrix"')
    expect(fr).toContain('data-type="lan"')
    const live = await (await fetch(`${pools[0].url}/topology/live`, { headers: h })).text()
    expect(live).toContain("pool-c")
  })

  test("a pool killed during changes catches up by anti-entropy after restart", async () => {
    const c = pools[2]
    await c.kill("SIGKILL")
    await admin(pools[0], "PUT", "/v1/admin/settings/flags.rag_fanout", { value: true })
    await admin(pools[1], "PUT", "/v1/admin/sites/paris", { name: "Paris", headcount: 250 })
    await admin(pools[0], "PUT", "/v1/admin/settings/moe_local_config", { value: { profile: "frugal" } })
    await admin(pools[0], "PUT", "/v1/admin/branding", { company: "Cabinet Rattrapé", remove_logo: true })
    const restarted = await startFedPool({ name: c.name, port: c.port, dataDir: c.dataDir })
    pools[2] = restarted
    const t = await until(
      "restarted pool caught up",
      async () => {
        const { sites } = await admin(restarted, "GET", "/v1/admin/sites")
        return (
          (await settingOn(restarted, "flags.rag_fanout")) === true &&
          sameJson(await settingOn(restarted, "moe_local_config"), { profile: "frugal" }) &&
          sites.some((s: any) => s.site_id === "paris") &&
          (await admin(restarted, "GET", "/v1/admin/branding")).company === "Cabinet Rattrapé"
        )
      },
      15_000,
    )
    console.log(`restarted pool caught up ${Math.round(t.ms)} ms after it was ready`)
    // The branding's logo removal travelled with it: no logo on the restarted pool's dashboard.
    expect(await admin(restarted, "GET", "/v1/admin/branding")).toMatchObject({ has_logo: false, logo_url: null })
    // It was its own pull that brought the changes (received_from set, applied after restart).
    const { log } = await admin(restarted, "GET", "/v1/federation/log?limit=20")
    expect(log.some((e: any) => e.kind === "site" && e.received_from)).toBe(true)
  })

  test("Federation page: refused envelopes with the guide's remedy; revoke, unbond and re-bond buttons", async () => {
    const [a, b] = pools
    const form = (path: string, fields: Record<string, string>) =>
      fetch(a.url + path, {
        method: "POST",
        headers: {
          "x-cellule-user": TEST_ADMIN.email,
          "content-type": "application/x-www-form-urlencoded",
          cookie: "cellule_lang=en",
        },
        body: new URLSearchParams(fields),
      })
    const page = await (
      await fetch(`${a.url}/federation`, { headers: { "x-cellule-user": TEST_ADMIN.email, cookie: "cellule_lang=en" } })
    ).text()
    // The forged envelopes refused earlier, each with what to do (§6.2: bad signature → re-bond the peer).
    expect(page).toMatch(/<tr data-reason="signature_invalid">[\s\S]*?Stale peer public key[\s\S]*?re-bond the peer/)
    for (const action of ["/federation/revoke", "/federation/unbond", "/federation/rebond"])
      expect(page).toContain(`action="${action}" data-confirm=`)
    const peerOf = async () =>
      (await admin(a, "GET", "/v1/federation/peers")).peers.find((p: any) => p.atom_id === ids[1].atom_id)
    expect((await form("/federation/revoke", { atom_id: ids[1].atom_id })).status).toBe(200)
    expect((await peerOf()).revoked_at).toBeTruthy()
    expect((await form("/federation/unbond", { atom_id: ids[1].atom_id })).status).toBe(200)
    expect(await peerOf()).toBeUndefined()
    const { token } = await admin(b, "POST", "/v1/federation/admin/attachment-tokens")
    const rebond = await form("/federation/rebond", { atom_id: ids[1].atom_id, url: b.url, token })
    expect(rebond.status).toBe(200)
    expect(await peerOf()).toMatchObject({ pool_name: "pool-b", revoked_at: null })
    const audit = (await admin(a, "GET", "/v1/admin/audit?limit=20")).data as any[]
    for (const action of ["trust.revoke", "bond.revoke", "bond.create"])
      expect(audit).toContainEqual(expect.objectContaining({ action, outcome: "success" }))
  })
})

describe("CELLULE_BOND_PEERS", () => {
  test("two pools listing each other's pinned keys bond at boot without a token, idempotently across a restart", async () => {
    const [pd, pe] = [await freePort(), await freePort()]
    // Keys made ahead, as an admin reads each atom id from the other pool before listing it.
    const [kd, ke] = [withKey(), withKey()]
    const list = `127.0.0.1:${pd}#${kd.id.atomId},http://127.0.0.1:${pe}#${ke.id.atomId}`
    const [d, e] = await Promise.all([
      startFedPool({ name: "pool-d", port: pd, dataDir: kd.dataDir, env: { CELLULE_BOND_PEERS: list } }),
      startFedPool({ name: "pool-e", port: pe, dataDir: ke.dataDir, env: { CELLULE_BOND_PEERS: list } }),
    ])
    for (const p of [d, e])
      await until(
        `${p.name} bonded`,
        async () => (await admin(p, "GET", "/v1/federation/peers")).peers.length === 1,
        30_000,
        200,
      )
    const peerOfD = (await admin(d, "GET", "/v1/federation/peers")).peers[0]
    expect(peerOfD).toMatchObject({ pool_name: "pool-e", trust_level: 1 })
    await d.kill()
    const d2 = await startFedPool({ name: "pool-d", port: pd, dataDir: d.dataDir, env: { CELLULE_BOND_PEERS: list } })
    await d2.waitFor(/every CELLULE_BOND_PEERS entry is bonded/, 30_000)
    expect((await admin(d2, "GET", "/v1/federation/peers")).peers).toMatchObject([
      { atom_id: peerOfD.atom_id, trust_level: 1 },
    ])
  }, 240_000)
})
