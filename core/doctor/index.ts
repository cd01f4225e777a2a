// core/doctor — `cellule doctor`: checks a running cluster end to end from one machine and says what is
// wrong and what to do. Reads only: each pool's public /v1/status (reachability, database, clock),
// /v1/workers and /v1/models; with an administrator (X-Cellule-User from a trusted network) also the bonds
// (/v1/federation/peers), the licence (/v1/admin/license) and the VIP (/v1/cluster/vip-self of each pool). Bonded peers
// are probed directly too, so a stopped peer is named even when only one pool URL is given.
import { existsSync, statfsSync } from "node:fs"
import { vipChecks, type VipSelf } from "./vip.ts"

export type CheckStatus = "ok" | "warn" | "problem"

export interface Check {
  /** Stable name: "pool", "bond", "workers", "models", "licence", "vip", "disk", "clock". */
  check: string
  status: CheckStatus
  /** What was checked (a pool URL, a peer name…). */
  subject: string
  detail: string
  /** What to do about it (warn and problem only). */
  fix?: string
}

export interface DoctorReport {
  ok: boolean
  problems: number
  warnings: number
  checks: Check[]
}

export interface DoctorOptions {
  /** Pool URLs to start from (the first one reachable is asked for bonds, licence and VIP). */
  pools: string[]
  /** Administrator e-mail sent as X-Cellule-User (honoured from the pool's trusted networks only). */
  admin?: string
  /** A data directory on this machine whose free space is checked. */
  dataDir?: string
  /** Largest clock difference between pools before it is a problem (ms). */
  maxSkewMs?: number
  /** Free space below which the data directory is a problem (bytes). */
  minFreeBytes?: number
  timeoutMs?: number
  fetcher?: typeof fetch
  now?: () => number
}

interface Probe {
  url: string
  name?: string
  ok: boolean
  status?: Record<string, unknown>
  error?: string
  /** Pool clock minus this machine's clock at the middle of the request (ms). */
  offsetMs?: number
}

const trimUrl = (u: string) => u.replace(/\/+$/, "")

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const f = opts.fetcher ?? fetch
  const now = opts.now ?? Date.now
  const timeout = opts.timeoutMs ?? 5000
  const maxSkew = opts.maxSkewMs ?? 2000
  const checks: Check[] = []
  const add = (c: Check) => checks.push(c)
  const headers: Record<string, string> = opts.admin ? { "x-cellule-user": opts.admin } : {}

  async function get(url: string, admin = false): Promise<{ status: number; body: any }> {
    const res = await f(url, { headers: admin ? headers : {}, signal: AbortSignal.timeout(timeout) })
    const text = await res.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {}
    return { status: res.status, body }
  }

  async function probe(url: string, name?: string): Promise<Probe> {
    const t0 = now()
    try {
      const r = await get(`${url}/v1/status`)
      const t1 = now()
      const status = typeof r.body === "object" && r.body ? (r.body as Record<string, unknown>) : {}
      const time = typeof status.time === "string" ? Date.parse(status.time) : Number.NaN
      return {
        url,
        name: (status.pool_name as string | undefined) ?? name,
        ok: r.status === 200,
        status,
        error: r.status === 200 ? undefined : `HTTP ${r.status} (${String(status.db ?? status.status ?? "")})`,
        offsetMs: Number.isNaN(time) ? undefined : time - (t0 + t1) / 2,
      }
    } catch (e) {
      return { url, name, ok: false, error: (e as Error).message }
    }
  }

  const label = (p: Probe) => (p.name ? `${p.name} (${p.url})` : p.url)
  const probes = new Map<string, Probe>()
  for (const u of opts.pools.map(trimUrl)) probes.set(u, await probe(u))

  // Bonds, licence and VIP come from the first reachable pool, with an administrator.
  const first = [...probes.values()].find((p) => p.ok)
  let adminOk = false
  if (first && opts.admin) {
    try {
      const peers = await get(`${first.url}/v1/federation/peers`, true)
      if (peers.status === 401 || peers.status === 403) {
        add({
          check: "admin",
          status: "warn",
          subject: first.url,
          detail: `administrator "${opts.admin}" refused (HTTP ${peers.status}): bonds, licence and VIP not checked`,
          fix: "run doctor on a pool host (loopback is trusted) or from CELLULE_TRUSTED_NETWORKS, with an existing administrator's e-mail",
        })
      } else if (peers.status === 200) {
        adminOk = true
        for (const p of (peers.body.peers ?? []) as {
          url: string
          pool_name: string | null
          trust_level: number
          last_seen: string | null
          revoked_at: string | null
        }[]) {
          if (p.revoked_at) continue
          const url = trimUrl(p.url)
          if (!probes.has(url)) probes.set(url, await probe(url, p.pool_name ?? undefined))
          const reach = probes.get(url)!
          const who = p.pool_name ?? url
          if (!reach.ok)
            add({
              check: "bond",
              status: "problem",
              subject: who,
              detail: `bonded peer ${who} at ${url} does not answer: ${reach.error}`,
              fix: `start the pool ${who} (systemctl start cellule-pool / docker compose up -d) or check the network between the pools; if it is gone for good, remove the bond in Federation`,
            })
          else if (p.trust_level < 2)
            add({
              check: "bond",
              status: "warn",
              subject: who,
              detail: `bond with ${who} is at trust level ${p.trust_level}: its changes and forwarded requests are not taken`,
              fix: `promote it: Federation page, or POST /v1/federation/peers/<atom_id>/promote {"target_level":3}`,
            })
          else
            add({
              check: "bond",
              status: "ok",
              subject: who,
              detail: `bonded at trust level ${p.trust_level}, last seen ${p.last_seen ?? "never"}`,
            })
        }
      }
    } catch (e) {
      add({
        check: "bond",
        status: "warn",
        subject: first.url,
        detail: `could not list bonds: ${(e as Error).message}`,
      })
    }
  } else if (first && !opts.admin)
    add({
      check: "admin",
      status: "warn",
      subject: first.url,
      detail: "no administrator given: bonds, licence and VIP not checked",
      fix: "pass --admin <e-mail> (from a pool host or a trusted network)",
    })

  // Every pool: reachable, database up.
  for (const p of probes.values()) {
    if (!opts.pools.map(trimUrl).includes(p.url) && !p.ok) continue // named under "bond" already
    if (p.ok)
      add({
        check: "pool",
        status: "ok",
        subject: label(p),
        detail: `answers, version ${String(p.status?.version)}, database ${String(p.status?.db)} (${String(p.status?.db_mode)})`,
      })
    else
      add({
        check: "pool",
        status: "problem",
        subject: label(p),
        detail: `does not answer /v1/status: ${p.error}`,
        fix:
          p.status?.db === "unreachable"
            ? "the pool runs but its database does not answer: check DATABASE_URL / the PostgreSQL service, or the disk of the data directory"
            : "start the pool (systemctl start cellule-pool / docker compose up -d), or check the URL, firewall and port",
      })
  }
  const up = [...probes.values()].filter((p) => p.ok)

  // Workers and models, cluster-wide (a pool without workers can forward to a bonded one).
  let workerTotal = 0
  const models = new Set<string>()
  for (const p of up) {
    try {
      const w = await get(`${p.url}/v1/workers`)
      const n = Number(w.body?.workers ?? 0)
      workerTotal += n
      if (n === 0 && up.length > 1)
        add({
          check: "workers",
          status: "warn",
          subject: label(p),
          detail: "no worker connected to this pool (requests are forwarded to bonded pools)",
          fix: "enrol workers on this site: Workers page → installer one-liner",
        })
      const m = await get(`${p.url}/v1/models`)
      for (const x of (m.body?.data ?? []) as { id: string }[]) models.add(x.id)
    } catch (e) {
      add({
        check: "workers",
        status: "warn",
        subject: label(p),
        detail: `could not read workers: ${(e as Error).message}`,
      })
    }
  }
  if (up.length) {
    add(
      workerTotal > 0
        ? { check: "workers", status: "ok", subject: "cluster", detail: `${workerTotal} worker(s) connected` }
        : {
            check: "workers",
            status: "problem",
            subject: "cluster",
            detail: "no worker is connected to any pool: nothing can answer a request",
            fix: "enrol a worker (Workers page → installer one-liner, or `cellule worker --pool <url> --token <token>`) and check it can reach the pool",
          },
    )
    add(
      models.size > 0
        ? { check: "models", status: "ok", subject: "cluster", detail: `served: ${[...models].sort().join(", ")}` }
        : {
            check: "models",
            status: "problem",
            subject: "cluster",
            detail: "no model is served",
            fix: "start workers with a model (`cellule worker --model name=/path/model.gguf`) or assign one on the Models page",
          },
    )
  }

  // Licence and VIP (administrator).
  if (first && adminOk) {
    try {
      const l = await get(`${first.url}/v1/admin/license`, true)
      const v = l.body as { status: string; enforce: boolean; days_remaining?: number; client_id?: string }
      const bad = ["expired", "revoked", "invalid"].includes(v.status)
      const warn = ["warning_j30", "grace", "none"].includes(v.status)
      add({
        check: "licence",
        status: !v.enforce ? (bad ? "warn" : "ok") : bad ? "problem" : warn ? "warn" : "ok",
        subject: first.name ?? first.url,
        detail: `licence ${v.status}${v.client_id ? ` (client ${v.client_id})` : ""}${v.days_remaining !== undefined && v.days_remaining !== null ? `, ${v.days_remaining} day(s) left` : ""}${v.enforce ? "" : ", not enforced"}`,
        fix: bad || warn ? "install a valid licence: Licence page, or POST /v1/admin/license {token}" : undefined,
      })
    } catch (e) {
      add({ check: "licence", status: "warn", subject: first.url, detail: `could not read: ${(e as Error).message}` })
    }
  }
  // The VIP: each reachable pool's vip-self (administrator), then the VIP address itself.
  if (first && adminOk) {
    const selfs: { pool: string; self: VipSelf | null }[] = []
    for (const p of [...probes.values()].filter((x) => x.ok)) {
      const r = await get(`${p.url}/v1/cluster/vip-self`, true).catch(() => null)
      selfs.push({ pool: label(p), self: r?.status === 200 ? (r.body as VipSelf) : null })
    }
    const ref = selfs.find((s) => s.self?.configured)?.self
    let answers: Parameters<typeof vipChecks>[1]
    if (ref?.vip_address) {
      const url = `http://${ref.vip_address}:${ref.port ?? 8080}`
      const v = await probe(url)
      answers = { url, ok: v.ok, name: v.name, error: v.error }
    }
    for (const c of vipChecks(selfs, answers)) add(c)
  }

  // Disk space of a local data directory.
  if (opts.dataDir && existsSync(opts.dataDir)) {
    const st = statfsSync(opts.dataDir)
    const free = Number(st.bavail) * Number(st.bsize)
    const total = Number(st.blocks) * Number(st.bsize)
    const min = opts.minFreeBytes ?? 1024 ** 3
    const pct = total ? (100 * free) / total : 100
    const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`
    add(
      free < min || pct < 5
        ? {
            check: "disk",
            status: "problem",
            subject: opts.dataDir,
            detail: `${gib(free)} free of ${gib(total)} (${pct.toFixed(1)} %)`,
            fix: "free space (old backups, unused model files) or grow the volume: the database and uploads stop when it is full",
          }
        : { check: "disk", status: "ok", subject: opts.dataDir, detail: `${gib(free)} free of ${gib(total)}` },
    )
  }

  // Clock skew between pools, from each /v1/status `time` against this machine's clock.
  const timed = up.filter((p) => p.offsetMs !== undefined)
  if (timed.length >= 2) {
    const sorted = [...timed].sort((a, b) => a.offsetMs! - b.offsetMs!)
    const median = sorted[Math.floor(sorted.length / 2)].offsetMs!
    const skew = sorted[sorted.length - 1].offsetMs! - sorted[0].offsetMs!
    if (skew <= maxSkew)
      add({ check: "clock", status: "ok", subject: "cluster", detail: `pool clocks within ${Math.round(skew)} ms` })
    else
      for (const p of timed) {
        const d = p.offsetMs! - median
        if (Math.abs(d) <= maxSkew / 2) continue
        add({
          check: "clock",
          status: "problem",
          subject: label(p),
          detail: `clock is ${(Math.abs(d) / 1000).toFixed(1)} s ${d > 0 ? "ahead of" : "behind"} the other pools (limit ${maxSkew} ms)`,
          fix: "synchronise the clock: `timedatectl set-ntp true` (systemd-timesyncd) or chrony pointed at the site's NTP server",
        })
      }
  }

  const problems = checks.filter((c) => c.status === "problem").length
  const warnings = checks.filter((c) => c.status === "warn").length
  return { ok: problems === 0, problems, warnings, checks }
}

/** The report as text, one line per check and the fix under it. */
export function formatReport(r: DoctorReport): string {
  const mark = { ok: "ok     ", warn: "WARN   ", problem: "PROBLEM" }
  const lines = r.checks.map(
    (c) => `${mark[c.status]} ${c.check.padEnd(8)} ${c.subject}: ${c.detail}${c.fix ? `\n        fix: ${c.fix}` : ""}`,
  )
  lines.push(
    r.ok
      ? `cluster healthy${r.warnings ? ` (${r.warnings} warning(s))` : ""}`
      : `${r.problems} problem(s), ${r.warnings} warning(s)`,
  )
  return lines.join("\n")
}
