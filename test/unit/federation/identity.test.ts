// Identity keys, POOL_URL routability, link classification and the loop life cycle.
import { afterAll, describe, expect, test } from "bun:test"
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { generateKeyPairSync } from "node:crypto"
import { cleanupAll, tempDir } from "../../support/proc.ts"
import { testDatabase } from "../../support/db.ts"
import { atomIdOf, loadIdentity, PRIVATE_KEY_FILE } from "../../../core/federation/identity.ts"
import { unroutableReason } from "../../../core/federation/pool-url.ts"
import { classify, networkType, RttWindow } from "../../../core/federation/topology.ts"
import { Loop } from "../../../core/federation/loop.ts"
import { advertisedUrl, Federation } from "../../../core/federation/index.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { ManualClock, systemClock } from "../../../core/clock.ts"
import { consumeAttachmentToken, createAttachmentToken } from "../../../core/federation/peers.ts"
import { logger } from "../../../core/log.ts"

afterAll(cleanupAll)

describe("identity", () => {
  test("first boot creates a 0600 key; the atom_id is derived from the public key and survives restarts", async () => {
    const db = await testDatabase()
    const dir = join(tempDir(), "fed")
    const id = await loadIdentity(db.sql, dir)
    expect(statSync(join(dir, PRIVATE_KEY_FILE)).mode & 0o777).toBe(0o600)
    expect(id.atomId).toBe(atomIdOf(id.pubkey))
    expect(id.atomId).toMatch(/^atom_[0-9a-f]{32}$/)
    expect((await loadIdentity(db.sql, dir)).atomId).toBe(id.atomId)

    // A lost key is never silently replaced: the database remembers the atom.
    rmSync(join(dir, PRIVATE_KEY_FILE))
    const missing = await loadIdentity(db.sql, dir).catch((e) => e)
    expect(missing.code).toBe("federation_key_missing")
    expect(missing.hint).toMatch(/restore the key dir/)
    expect(existsSync(join(dir, PRIVATE_KEY_FILE))).toBe(false)

    // Nor is another pool's key adopted.
    writeFileSync(
      join(dir, PRIVATE_KEY_FILE),
      generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }),
      { mode: 0o600 },
    )
    expect((await loadIdentity(db.sql, dir).catch((e) => e)).code).toBe("federation_key_mismatch")

    // Re-keying is explicit: a new atom, the old key kept aside.
    const rekeyed = await loadIdentity(db.sql, dir, { rekey: true })
    expect(rekeyed.atomId).not.toBe(id.atomId)
    expect((await loadIdentity(db.sql, dir)).atomId).toBe(rekeyed.atomId)

    // With federation active, a loopback POOL_URL cannot be advertised to a peer (§4.5 P1).
    const config = loadConfig("pool", {}, { CELLULE_FED_KEY_DIR: join(tempDir(), "fed2"), CELLULE_DATA_DIR: tempDir() })
    await db.sql`delete from federation_self`
    const fed = await Federation.open(db.sql, config, systemClock, "http://127.0.0.1:8080")
    const refused = await fed.register("http://10.9.9.9:8080").catch((e) => e)
    expect(refused.code).toBe("pool_url_unroutable")
    expect(refused.hint).toMatch(/LAN IP/)
  })
})

describe("attachment tokens", () => {
  test("single use, valid 24 h, stored hashed", async () => {
    const db = await testDatabase()
    const clock = new ManualClock()
    const a = await createAttachmentToken(db.sql, clock)
    expect(a.token).toStartWith("cfa_")
    expect(
      (
        await db.sql`select count(*)::int as n from federation_attachment_tokens where token_hash::text like ${"%" + a.token + "%"}`
      )[0].n,
    ).toBe(0)
    expect(await consumeAttachmentToken(db.sql, a.token, "atom_x", clock)).toBe(true)
    expect(await consumeAttachmentToken(db.sql, a.token, "atom_y", clock)).toBe(false)
    const b = await createAttachmentToken(db.sql, clock)
    clock.advance(24 * 3600_000 + 1)
    expect(await consumeAttachmentToken(db.sql, b.token, "atom_x", clock)).toBe(false)
    expect(await consumeAttachmentToken(db.sql, "cfa_forged", "atom_x", clock)).toBe(false)
  })
})

describe("POOL_URL", () => {
  test.each([
    ["http://127.0.0.1:8080", true],
    ["http://localhost:8080", true],
    ["http://[::1]:8080", true],
    ["http://pool-a:8080", true],
    ["http://host.docker.internal:8080", true],
    ["http://pool-a.entreprise.local:18091", false],
    ["http://10.0.1.5:18091", false],
    ["https://cellule.example.com", false],
  ])("%s unroutable: %p", (url, bad) => {
    expect(unroutableReason(url) !== null).toBe(bad)
  })
  test("port 0 in POOL_URL means the listening port", () => {
    expect(advertisedUrl("http://10.0.0.1:0", 4321)).toBe("http://10.0.0.1:4321")
    expect(advertisedUrl("http://10.0.0.1:8080/", 4321)).toBe("http://10.0.0.1:8080")
  })
})

describe("topology", () => {
  test.each([
    [0.4, "lan"],
    [4.99, "lan"],
    [5, "metro"],
    [30, "metro"],
    [30.1, "wan"],
    [150, "wan"],
  ] as const)("%p ms is %s", (ms, link) => {
    expect(classify(ms)).toBe(link)
  })
  test("the cluster's type is its slowest link", () => {
    expect(networkType([])).toBe("single")
    expect(networkType(["lan", null, "lan"])).toBe("lan")
    expect(networkType(["lan", "wan", "metro"])).toBe("wan")
  })
  test("one slow probe does not reclassify a link", () => {
    const w = new RttWindow(4)
    for (const ms of [1, 1.2, 80, 1.1]) w.add(ms)
    expect(classify(w.add(0.9))).toBe("lan")
  })
})

describe("loop", () => {
  test("start, kick, stop: explicit states and stop awaits the tick in flight", async () => {
    let ticks = 0
    let release!: () => void
    const l = new Loop(
      "test",
      60_000,
      async () => {
        ticks++
        await new Promise<void>((r) => (release = r))
      },
      logger("federation"),
    )
    expect(l.state).toBe("idle")
    l.start({ immediate: true })
    expect(l.state).toBe("running")
    await Bun.sleep(20)
    expect(ticks).toBe(1)
    const stopping = l.stop()
    expect(l.state).toBe("draining")
    release()
    await stopping
    expect(l.state).toBe("stopped")
    l.kick()
    await Bun.sleep(20)
    expect(ticks).toBe(1)
  })
})
