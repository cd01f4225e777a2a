// The admin guide's variable names on a real pool: IAMINE_FED=off turns federation off (routes answer
// 503 federation_off, identity says off), the boot log names the CELLULE_ setting, and a typo is reported.
import { afterAll, expect, test } from "bun:test"
import { ADMIN_FROM_LOOPBACK, cleanupAll, startPool, TEST_ADMIN } from "../support/proc.ts"

afterAll(cleanupAll)

test("IAMINE_FED=off: federation off, one warning naming CELLULE_FED, a typo reported", async () => {
  const pool = await startPool({
    env: { IAMINE_FED: "off", IAMINE_FED_GOSIP_ENABLED: "false", ...ADMIN_FROM_LOOPBACK },
  })
  const log = pool.stderr()
  expect(log).toContain(`IAMINE_FED is the guide's name of CELLULE_FED: read as CELLULE_FED="off"`)
  expect(log).toContain(
    "IAMINE_FED_GOSIP_ENABLED is not a Cellule setting and is ignored (did you mean IAMINE_FED_GOSSIP_ENABLED?)",
  )
  expect(log).toMatch(/federation off: atom atom_/)
  const id = (await (await fetch(`${pool.url}/v1/federation/identity`)).json()) as { mode: string }
  expect(id.mode).toBe("off")
  const res = await fetch(`${pool.url}/v1/federation/admin/register`, {
    method: "POST",
    headers: { "x-cellule-user": TEST_ADMIN.email, "content-type": "application/json" },
    body: JSON.stringify({ url: "http://127.0.0.1:1", token: "x" }),
  })
  expect(res.status).toBe(503)
  expect(await res.text()).toContain("federation_off")
}, 240_000)
