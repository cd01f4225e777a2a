// Test support: real federated pool processes for integration tests and the gossip bench: fixed free ports (so a
// restarted pool keeps its URL), fast loop intervals, admin calls through the trusted-network header.
import {
  celluleCmd,
  freePort,
  spawnProc,
  tempDir,
  testSetupAnswers,
  TEST_ADMIN,
  TEST_POOL_ENV,
  type Proc,
} from "./proc.ts"
import { until } from "./until.ts"

export interface FedPool extends Proc {
  name: string
  url: string
  port: number
  dataDir: string
  env: Record<string, string>
  /** The pool's administrator when it is not TEST_ADMIN (admin calls name it in X-Cellule-User). */
  adminEmail?: string
}

export const FAST = {
  CELLULE_FED_GOSSIP_MS: "200",
  CELLULE_FED_ANTI_ENTROPY_MS: "500",
  CELLULE_FED_PROBE_MS: "300",
  CELLULE_KEY_USAGE_SYNC_MS: "200",
}

/** Start one federated pool. `prefix` runs it through another command (e.g. ip netns exec ns). */
export async function startFedPool(opts: {
  name: string
  port?: number
  host?: string
  dataDir?: string
  env?: Record<string, string>
  prefix?: string[]
}): Promise<FedPool> {
  // A port freePort() found free can be taken by another test process's outgoing connection before the
  // pool listens (two test files run at once): a pool whose port was not chosen by the test gets another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startFedPoolOn(opts, opts.port ?? freePort())
    } catch (e) {
      if (opts.port || attempt >= 3 || !/Is port \d+ in use/.test(String(e))) throw e
    }
  }
}

async function startFedPoolOn(opts: Parameters<typeof startFedPool>[0], port: number): Promise<FedPool> {
  const host = opts.host ?? "127.0.0.1"
  const dataDir = opts.dataDir ?? tempDir(`cellule-fed-${opts.name}-`)
  const env: Record<string, string> = {
    POOL_NAME: opts.name,
    POOL_URL: `http://${host}:${port}`,
    CELLULE_FED_ALLOW_LOOPBACK_URL: "true",
    CELLULE_TRUSTED_NETWORKS: "127.0.0.0/8,10.0.0.0/8",
    CELLULE_SETUP_ANSWERS: testSetupAnswers(),
    ...TEST_POOL_ENV,
    ...FAST,
    ...opts.env,
  }
  const p = spawnProc(
    [...(opts.prefix ?? []), ...celluleCmd(), "pool", "--port", String(port), "--host", host, "--data-dir", dataDir],
    { env },
  )
  await p.waitFor(/cellule pool ready (http:\/\/\S+)/, 180_000)
  return Object.assign(p, { name: opts.name, url: `http://${host}:${port}`, port, dataDir, env })
}

/** An admin API call; throws with the body on a non-2xx answer. */
export async function admin<T = any>(
  pool: { url: string; adminEmail?: string },
  method: string,
  path: string,
  body?: unknown,
  fetcher: typeof fetch = fetch,
): Promise<T> {
  const res = await fetcher(pool.url + path, {
    method,
    headers: {
      "x-cellule-user": pool.adminEmail ?? TEST_ADMIN.email,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path} on ${pool.url}: ${res.status} ${text}`)
  return JSON.parse(text) as T
}

/** Bond every pair with attachment tokens, then (unless promote is false) promote every bond to trust 3 on both sides. */
export async function bondAll<P extends { url: string; adminEmail?: string }>(
  pools: P[],
  fetcher: typeof fetch = fetch,
  urlOf = (_from: P, to: P) => to.url,
  promote = true,
) {
  const ids = await Promise.all(pools.map((p) => admin(p, "GET", "/v1/federation/identity", undefined, fetcher)))
  for (let i = 0; i < pools.length; i++)
    for (let j = i + 1; j < pools.length; j++) {
      const { token } = await admin(pools[j], "POST", "/v1/federation/admin/attachment-tokens", undefined, fetcher)
      await admin(pools[i], "POST", "/v1/federation/admin/register", { url: urlOf(pools[i], pools[j]), token }, fetcher)
    }
  if (promote) await promoteAll(pools, ids, fetcher)
  return ids as { atom_id: string; pubkey: string; pool_name: string; url: string }[]
}

export async function promoteAll(
  pools: { url: string; adminEmail?: string }[],
  ids: { atom_id: string }[],
  fetcher: typeof fetch = fetch,
) {
  await Promise.all(
    pools.map(async (p, i) => {
      for (let j = 0; j < pools.length; j++)
        if (i !== j)
          await admin(p, "POST", `/v1/federation/peers/${ids[j].atom_id}/promote`, { target_level: 3 }, fetcher)
    }),
  )
}

export async function settingOn(pool: { url: string }, key: string, fetcher: typeof fetch = fetch): Promise<unknown> {
  const res = await fetcher(`${pool.url}/v1/admin/settings/${key}`, {
    headers: { "x-cellule-user": TEST_ADMIN.email },
    signal: AbortSignal.timeout(5000),
  })
  if (res.status === 404) return undefined
  return ((await res.json()) as { value: unknown }).value
}

/**
 * Make `pools[i]` the catalogue master, which is also the one pool that takes cluster setting changes
 * (the others answer 409 settings_read_only), and wait until every pool in `pools` agrees.
 */
export async function makeMaster<P extends { url: string; adminEmail?: string }>(
  pools: P[],
  i: number,
  fetcher: typeof fetch = fetch,
  timeoutMs = 15_000,
) {
  await admin(pools[i], "POST", "/v1/admin/models/promote-master", undefined, fetcher)
  await until(
    `pool ${i} master of the settings on every pool`,
    async () => {
      const roles = await Promise.all(
        pools.map(async (p) => (await admin(p, "GET", "/v1/admin/settings", undefined, fetcher)).role),
      )
      return roles.every((r, j) =>
        j === i ? r.role === "master" : r.role === "satellite" && r.master_url === pools[i].url,
      )
    },
    timeoutMs,
    50,
  )
}
