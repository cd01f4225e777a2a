// The admin guide's variable names on real pools: IAMINE_FED=off turns federation off (routes answer
// 503 federation_off, identity says off), the boot log names the CELLULE_ setting, a typo is reported;
// LICENSE_KEY installs the licence at boot (its value never logged); FEDERATION_SELF_ATOM_ID guards the key.
import { afterAll, expect, test } from "bun:test"
import { generateKeyPair, issueLicense, toHex } from "../../core/license/index.ts"
import {
  ADMIN_FROM_LOOPBACK,
  celluleCmd,
  cleanupAll,
  spawnProc,
  startPool,
  tempDir,
  TEST_ADMIN,
} from "../support/proc.ts"

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

test("LICENSE_KEY installs the licence at boot; FEDERATION_SELF_ATOM_ID stops a pool whose key differs", async () => {
  const keys = await generateKeyPair()
  const { token } = await issueLicense({ clientId: "guide-env-001", tier: "cabinet" }, keys.privateKey)
  const dataDir = tempDir("cellule-guide-")
  const env = { CELLULE_LICENSE_PUBKEY: toHex(keys.publicKey), LICENSE_KEY: token, ...ADMIN_FROM_LOOPBACK }
  const pool = await startPool({ dataDir, env })
  expect(pool.stderr()).toContain(
    "LICENSE_KEY is the guide's name of CELLULE_LICENSE_KEY: read as CELLULE_LICENSE_KEY=[redacted]",
  )
  expect(pool.stderr()).not.toContain(token)
  const lic = (await (
    await fetch(`${pool.url}/v1/admin/license`, { headers: { "x-cellule-user": TEST_ADMIN.email } })
  ).json()) as {
    client_id: string
    status: string
  }
  expect(lic.client_id).toBe("guide-env-001")
  expect(lic.status).toBe("active")
  const { atom_id } = (await (await fetch(`${pool.url}/v1/federation/identity`)).json()) as { atom_id: string }
  await pool.kill()

  // The same data dir with the right atom id boots; a wrong one stops start-up (exit 2) naming both.
  const wrong = spawnProc([...celluleCmd(), "pool", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir], {
    env: { ...env, FEDERATION_SELF_ATOM_ID: "atom_00000000000000000000000000000000" },
  })
  expect(await wrong.exited).toBe(2)
  expect(wrong.stderr()).toContain(`CELLULE_FED_ATOM_ID is atom_00000000000000000000000000000000 but the key`)
  expect(wrong.stderr()).toContain(`gives ${atom_id}`)
  const right = await startPool({ dataDir, env: { ...env, FEDERATION_SELF_ATOM_ID: atom_id } })
  expect(right.stderr()).toContain(`federation active: atom ${atom_id}`)
}, 240_000)
