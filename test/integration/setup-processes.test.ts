// The wizard across real processes: a pristine `cellule pool` is gated; `cellule setup --answers`
// completes it headlessly; two pools on one database — completing the wizard on one opens the other
// within 2 s.
import { afterAll, describe, expect, test } from "bun:test"
import { statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { openDatabase } from "../../core/db/client.ts"
import { celluleCmd, cleanupAll, onCleanup, spawnProc, startPool, tempDir } from "../support/proc.ts"
import { startSocketDatabase } from "../support/socket-db.ts"

afterAll(cleanupAll)

const ANSWERS = {
  identity: { company: "Cabinet Martin", sector: "LAW" },
  topology: { sites: [{ name: "Bordeaux", headcount: 8 }] },
  hardware: { cpu_workers: true, gpu_servers: 0 },
  models: { tiers: ["fast"] },
  security: { retention_months: null },
  admin: { email: "admin@martin.example", password: "martin-password-1" },
}

async function completeOverHttp(url: string) {
  const steps: [string, unknown][] = [
    ["license", { mode: "evaluation" }],
    ["identity", ANSWERS.identity],
    ["topology", ANSWERS.topology],
    ["hardware", ANSWERS.hardware],
    ["models", ANSWERS.models],
    ["security", {}],
    ["admin", ANSWERS.admin],
    ["recap", {}],
  ]
  for (const [step, body] of steps) {
    const r = await fetch(`${url}/setup/step/${step}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    })
    expect(r.status, `${step}: ${await r.clone().text()}`).toBe(200)
  }
}

describe("setup across processes", () => {
  test("a pristine pool is gated over real HTTP until `cellule setup --answers` completes it", async () => {
    const dataDir = tempDir()
    const pool = await startPool({ dataDir, setup: false })
    const api = await fetch(`${pool.url}/v1/models`)
    expect(api.status).toBe(503)
    expect(await api.json()).toMatchObject({ error: "cluster_setup_pending", setup_url: "/setup/ui" })
    const page = await fetch(`${pool.url}/`, { headers: { accept: "text/html" }, redirect: "manual" })
    expect(page.status).toBe(307)
    expect(page.headers.get("location")).toBe("/setup/ui")
    expect((await fetch(`${pool.url}/v1/status`)).status).toBe(200)
    // The federation key pair exists from the first boot, private half 0600 (core/federation/identity.ts).
    expect(statSync(join(dataDir, "federation", "federation_self.privkey")).mode & 0o777).toBe(0o600)
    await pool.kill()

    const answers = join(tempDir(), "answers.json")
    writeFileSync(answers, JSON.stringify({ ...ANSWERS, security: { retention_months: 24 } }))
    const bad = join(tempDir(), "bad.json")
    writeFileSync(bad, JSON.stringify({ ...ANSWERS, admin: { email: "x@y.z", password: "short" } }))
    const refused = spawnProc([...celluleCmd(), "setup", "--answers", bad, "--data-dir", dataDir])
    expect(await refused.exited).toBe(1)
    expect(refused.stderr()).toContain("password password_too_short")

    const setup = spawnProc([...celluleCmd(), "setup", "--answers", answers, "--data-dir", dataDir, "--login-link"])
    expect(await setup.exited).toBe(0)
    const out = setup.stdout()
    expect(out).toContain("OK: setup completed for Cabinet Martin (LAW)")
    expect(out).toContain("audit retention 24 months (explicit)")
    expect(out).toContain("sector defaults applied: audit_grade=strict, template=Client matter:")
    const link = out.match(/login link: (\S+)/)![1]

    const again = spawnProc([...celluleCmd(), "setup", "--answers", answers, "--data-dir", dataDir])
    expect(await again.exited).toBe(1)
    expect(again.stderr()).toContain("re-open flow")
    // the headless path writes the audit log's first row, as the wizard does
    const db = await openDatabase({ dataDir })
    const rows = await db.sql`select actor_id, outcome, details from audit_log where action = 'setup.complete'`
    await db.close()
    expect([...rows]).toMatchObject([
      { actor_id: ANSWERS.admin.email, outcome: "success", details: { via: "headless" } },
    ])

    const reopened = await startPool({ dataDir, setup: false })
    expect((await fetch(`${reopened.url}/v1/models`)).status).toBe(200)
    // the one-time link signs in once
    const first = await fetch(`${reopened.url}${link}`, { redirect: "manual" })
    expect(first.status).toBe(303)
    expect(first.headers.get("set-cookie")).toContain("cellule_session=")
    expect((await fetch(`${reopened.url}${link}`, { redirect: "manual" })).status).toBe(401)
    // The wizard's sites joined the cluster's replicated site list (Worker balancing reads it).
    const cookie = first.headers.get("set-cookie")!.split(";")[0]
    const sites = (await (await fetch(`${reopened.url}/v1/admin/sites`, { headers: { cookie } })).json()) as {
      sites: { site_id: string; name: string; headcount: number }[]
    }
    expect(sites.sites).toMatchObject([{ site_id: "bordeaux", name: "Bordeaux", headcount: 8 }])
  })

  test("two pools on one database: completing the wizard on one opens the other within 2 s", async () => {
    const database = await startSocketDatabase(2) // one connection per pool (test/support/socket-db.ts)
    onCleanup(database.stop)
    // Two pools on one database are one cluster: they share its federation key too.
    const env = {
      DATABASE_URL: database.url,
      CELLULE_FED_KEY_DIR: tempDir("cellule-fedkey-"),
      CELLULE_DATABASE_POOL_MAX: "1",
    }
    const a = await startPool({ env, setup: false })
    const b = await startPool({ env, setup: false })
    expect((await fetch(`${b.url}/v1/workers`)).status).toBe(503)
    await completeOverHttp(a.url)
    const t0 = performance.now()
    let status = 0
    while (performance.now() - t0 < 5000) {
      status = (await fetch(`${b.url}/v1/workers`)).status
      if (status === 200) break
      await Bun.sleep(25)
    }
    const elapsed = performance.now() - t0
    console.log(`second pool opened ${elapsed.toFixed(0)} ms after the first completed the wizard`)
    expect(status).toBe(200)
    expect(elapsed).toBeLessThan(2000)
    expect((await fetch(`${a.url}/v1/workers`)).status).toBe(200)
  })
})
