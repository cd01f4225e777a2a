// core/license/store — the installed licence (the cluster_license row) and its per-request state.
// Verifies before it stores, verifies again at boot, keeps the verdict in memory; never returns the token.
import type { Clock } from "../clock.ts"
import { systemClock } from "../clock.ts"
import type { Sql } from "../db/client.ts"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import { LicenseRejected } from "./errors.ts"
import { type GateStatus, type LicenseState, licenseState } from "./gate.ts"
import { licensePubkey, isPlaceholder, type PubkeySource } from "./pubkey.ts"
import { type RevocationList, shippedRevocationList } from "./revocation.ts"
import { statusAt, type StatusReport } from "./status.ts"
import { verify, type VerifyResult } from "./verify.ts"

const log = logger("license")

/** What the admin API and the dashboard show. Never carries the token. */
export interface LicenseView extends Omit<StatusReport, "status"> {
  readonly status: GateStatus
  /** cluster_license.enforce: false bypasses every gate (guide §7.6). */
  readonly enforce: boolean
  /** The DB `revoked` flag (the shipped list shows up as status `revoked` too). */
  readonly revoked: boolean
  readonly installed_at: string | null
  readonly installed_by: string | null
  /** Why the stored token does not verify (status `invalid`) or why it is revoked. */
  readonly problem: { readonly code: string; readonly message: string } | null
  /** Which key this build trusts; `placeholder` means every upload is refused. */
  readonly pubkey: { readonly source: PubkeySource; readonly placeholder: boolean }
}

export interface LicenseStoreOptions {
  clock?: Clock
  /** Defaults to the build's key (core/license/pubkey.ts). */
  pubkeyHex?: string
  pubkeySource?: PubkeySource
  /** Defaults to the list shipped in this build. */
  revoked?: RevocationList
  /** How long a request may use the in-memory row before re-reading it (other processes, manual SQL). */
  refreshMs?: number
}

interface Row {
  token: string | null
  client_id: string | null
  tier: string | null
  expires_at: Date | null
  enforce: boolean
  revoked: boolean
  installed_at: Date | null
  installed_by: string | null
}

interface Cached {
  row: Row
  /** Verdict on row.token (null when no token); recomputed only when the token changes. */
  verified: VerifyResult | null
  readAt: number
}

/** How long a request waits for a due re-read before using the last known row. */
const STALE_WAIT_MS = 200

const EMPTY_ROW: Row = {
  token: null,
  client_id: null,
  tier: null,
  expires_at: null,
  enforce: true,
  revoked: false,
  installed_at: null,
  installed_by: null,
}

/** An upload of a licence already past its grace window: it would lock the cluster, so it is refused. */
export class LicenseAlreadyExpired extends CelluleError {
  constructor(expiresAt: string, graceEndsAt: string) {
    super(
      "license_expired",
      `this licence expired on ${expiresAt} and its grace period ended on ${graceEndsAt}`,
      400,
      "ask CELLULE.ai for a renewed licence",
    )
  }
}

export class LicenseStore {
  readonly clock: Clock
  readonly pubkeyHex: string
  readonly pubkeySource: PubkeySource
  readonly revocationList: RevocationList
  readonly refreshMs: number
  private cached: Cached | undefined
  private refreshing: Promise<Cached> | undefined
  private lastStatus: GateStatus | undefined

  constructor(
    private readonly sql: Sql,
    opts: LicenseStoreOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock
    const key =
      opts.pubkeyHex === undefined ? licensePubkey() : { hex: opts.pubkeyHex, source: opts.pubkeySource ?? "env" }
    this.pubkeyHex = key.hex
    this.pubkeySource = isPlaceholder(key.hex) ? "placeholder" : key.source
    this.revocationList = opts.revoked ?? shippedRevocationList
    this.refreshMs = opts.refreshMs ?? 5_000
  }

  /** Boot: reads and verifies the stored licence and writes the §7.10 log lines. Never throws on a bad token. */
  async load(): Promise<LicenseView> {
    log.info(`license: revoked clients list loaded (${this.revocationList.clients.size} entries)`)
    if (this.pubkeySource === "placeholder")
      log.warn(
        "license pubkey not initialized: this build carries the all-zero placeholder and refuses every licence (evaluation mode)",
      )
    else
      log.info(
        `license: public key from ${this.pubkeySource === "build" ? "the build" : "CELLULE_LICENSE_PUBKEY (source mode)"}`,
      )
    const c = await this.refresh()
    const view = this.viewOf(c)
    this.lastStatus = view.status
    bootLine(view)
    return view
  }

  /**
   * Boot: installs CELLULE_LICENSE_KEY (the guide's LICENSE_KEY) when it differs from the stored token.
   * A rejected token is logged and the installed licence kept: never fatal, like a bad stored one.
   */
  async installAtBoot(token: string): Promise<void> {
    if ((await this.current()).row.token?.trim() === token.trim()) return
    try {
      await this.install(token, "environment")
    } catch (e) {
      log.error(`license: CELLULE_LICENSE_KEY rejected (${(e as Error).message}); the installed licence is kept`)
    }
  }

  /** The gate state for one request: the in-memory verdict, the status at clock.now(), enforce. */
  async state(): Promise<LicenseState> {
    const c = await this.current()
    const state = licenseState(c.verified, this.clock.now(), { enforce: c.row.enforce, revoked: c.row.revoked })
    this.noteStatus(state, c)
    return state
  }

  /** The admin view (GET /v1/admin/license, dashboard). */
  async view(): Promise<LicenseView> {
    return this.viewOf(await this.current())
  }

  /**
   * Verifies `token` against the build key and the shipped revocation list, then stores it in one
   * transaction. Throws LicenseRejected (400 jwt_invalid | license_malformed | client_revoked) or
   * LicenseAlreadyExpired (400 license_expired) and leaves the installed licence untouched.
   */
  async install(token: string, by: string | null = null): Promise<LicenseView> {
    const { license } = await this.check(token)
    const clean = token.trim()
    const now = new Date(this.clock.now())
    await this.sql.begin(async (tx) => {
      await tx`
        insert into cluster_license (id, token, client_id, tier, expires_at, revoked, installed_at, installed_by, updated_at)
        values (1, ${clean}, ${license.client_id}, ${license.tier}, ${new Date(license.exp * 1000)}, false, ${now}, ${by}, ${now})
        on conflict (id) do update set
          token = excluded.token, client_id = excluded.client_id, tier = excluded.tier, expires_at = excluded.expires_at,
          revoked = false, installed_at = excluded.installed_at, installed_by = excluded.installed_by, updated_at = excluded.updated_at`
    })
    const view = this.viewOf(await this.reload())
    log.info(
      `license installed${by ? ` by ${by}` : ""}: ${view.status}, client=${view.client_id} tier=${view.tier} expires_in=${view.days_remaining}d`,
    )
    this.lastStatus = view.status
    return view
  }

  /**
   * Verifies a token without storing it (the wizard's "check before activate"). Throws like install();
   * returns the verify result with its license.
   */
  async check(token: string): Promise<VerifyResult & { ok: true }> {
    // verify() itself refuses a non-string (jwt_invalid), so a raw JSON body value can be passed.
    const result = await verify(token, this.pubkeyHex, { clock: this.clock, revoked: this.revocationList })
    if (!result.ok) throw new LicenseRejected(result.error, result.message)
    const st = statusAt(result.license, this.clock.now())
    if (st.status === "expired") throw new LicenseAlreadyExpired(st.expires_at!, st.grace_ends_at!)
    return result
  }

  /** Back to evaluation mode (no licence). Keeps `enforce` as it was. */
  async remove(by: string | null = null): Promise<LicenseView> {
    const now = new Date(this.clock.now())
    await this.sql.begin(async (tx) => {
      await tx`
        insert into cluster_license (id, updated_at) values (1, ${now})
        on conflict (id) do update set token = null, client_id = null, tier = null, expires_at = null,
          revoked = false, installed_at = null, installed_by = null, updated_at = excluded.updated_at`
    })
    const view = this.viewOf(await this.reload())
    log.warn(`license removed${by ? ` by ${by}` : ""}: no licence installed, evaluation mode`)
    this.lastStatus = view.status
    return view
  }

  /** The §7.6 emergency override. Logged at WARNING whichever way it goes. */
  async setEnforce(enabled: boolean, by: string | null = null): Promise<LicenseView> {
    const now = new Date(this.clock.now())
    await this.sql.begin(async (tx) => {
      await tx`
        insert into cluster_license (id, enforce, updated_at) values (1, ${enabled}, ${now})
        on conflict (id) do update set enforce = excluded.enforce, updated_at = excluded.updated_at`
    })
    log.warn(
      `license.enforce toggled to ${enabled}${by ? ` by ${by}` : ""}${enabled ? "" : " - licence gates bypassed"}`,
    )
    return this.viewOf(await this.reload())
  }

  /** Forget the in-memory row; the next request re-reads it. */
  invalidate(): void {
    this.cached = undefined
  }

  private async current(): Promise<Cached> {
    const c = this.cached
    if (!c) return this.refresh()
    if (Math.abs(this.clock.now() - c.readAt) < this.refreshMs) return c
    // Due for a re-read. A slow or failing database must not hold requests: past STALE_WAIT_MS, or on
    // an error, keep deciding with what we knew (the re-read goes on and lands in the cache).
    const fresh = this.refresh().catch((e: Error) => {
      if (this.cached === c)
        log.warn(`license: could not re-read cluster_license (${e.message}); using the last known state`)
      return c
    })
    let timer: ReturnType<typeof setTimeout> | undefined
    const stale = new Promise<Cached>((resolve) => (timer = setTimeout(() => resolve(c), STALE_WAIT_MS)))
    try {
      return await Promise.race([fresh, stale])
    } finally {
      clearTimeout(timer)
    }
  }

  /** After a write: a read already in flight may predate it, so wait for it and read again. */
  private async reload(): Promise<Cached> {
    await this.refreshing?.catch(() => {})
    return this.refresh()
  }

  private refresh(): Promise<Cached> {
    this.refreshing ??= (async () => {
      try {
        const rows = await this.sql<Row[]>`
          select token, client_id, tier, expires_at, enforce, revoked, installed_at, installed_by
          from cluster_license where id = 1`
        const row = rows[0] ? { ...rows[0] } : EMPTY_ROW
        const prev = this.cached
        const verified = !row.token
          ? null
          : prev && prev.row.token === row.token
            ? prev.verified
            : await verify(row.token, this.pubkeyHex, { clock: this.clock, revoked: this.revocationList })
        this.cached = { row, verified, readAt: this.clock.now() }
        return this.cached
      } finally {
        this.refreshing = undefined
      }
    })()
    return this.refreshing
  }

  private viewOf(c: Cached): LicenseView {
    const now = this.clock.now()
    const state = licenseState(c.verified, now, { enforce: c.row.enforce, revoked: c.row.revoked })
    const license = c.verified && (c.verified.ok || c.verified.error === "client_revoked") ? c.verified.license : null
    const report = statusAt(license, now, { revoked: state.status === "revoked" })
    const problem =
      c.verified && !c.verified.ok
        ? { code: c.verified.error, message: c.verified.message }
        : c.row.revoked && license
          ? { code: "license_revoked", message: "revoked in the database (cluster_license.revoked)" }
          : null
    return {
      status: state.status,
      enforce: c.row.enforce,
      revoked: c.row.revoked,
      // For an invalid token the pool trusts nothing in it; the row's copies only tell the admin which one it was.
      client_id: report.client_id ?? c.row.client_id,
      tier: report.tier ?? c.row.tier,
      features: report.features,
      limits: report.limits,
      issued_at: report.issued_at,
      expires_at: report.expires_at ?? (c.row.expires_at ? c.row.expires_at.toISOString() : null),
      grace_ends_at: report.grace_ends_at,
      days_remaining: report.days_remaining,
      grace_days_remaining: report.grace_days_remaining,
      installed_at: c.row.installed_at ? c.row.installed_at.toISOString() : null,
      installed_by: c.row.installed_by,
      problem,
      pubkey: { source: this.pubkeySource, placeholder: this.pubkeySource === "placeholder" },
    }
  }

  /** One log line each time the status changes while the pool runs (e.g. active → warning_j30). */
  private noteStatus(state: LicenseState, c: Cached) {
    if (state.status === this.lastStatus) return
    this.lastStatus = state.status
    statusLine(this.viewOf(c), "license status")
  }
}

function bootLine(v: LicenseView) {
  if (v.status === "none") {
    log.info(
      "license boot: no license installed - dev opt-in mode active (v1 tolerant, no service interruption). Upload via admin dashboard.",
    )
    return
  }
  statusLine(v, "license boot")
}

/** The guide's progression: WARNING within 30 days, ERROR in grace, CRITICAL past grace. */
function statusLine(v: LicenseView, prefix: string) {
  const who = `client=${v.client_id ?? "?"} tier=${v.tier ?? "?"}`
  switch (v.status) {
    case "none":
      return log.info(`${prefix}: none - no licence installed, evaluation mode`)
    case "active":
      return log.info(`${prefix}: active, ${who} expires_in=${v.days_remaining}d`)
    case "warning_j30":
      return log.warn(
        `${prefix}: warning_j30, ${who} expires_in=${v.days_remaining}d - renew the licence before ${v.expires_at}`,
      )
    case "grace":
      return log.error(
        `${prefix}: grace, ${who} expired ${v.expires_at}, mutations refused after ${v.grace_ends_at}${v.enforce ? "" : " (enforce=false)"}`,
      )
    case "expired":
      return log.error(
        `CRITICAL ${prefix}: expired, ${who} grace ended ${v.grace_ends_at} - mutations refused (402), reads still work${v.enforce ? "" : "; enforce=false: gates bypassed"}`,
      )
    case "revoked":
      return log.error(
        `CRITICAL ${prefix}: revoked, ${who} (${v.problem?.message ?? "revoked"}) - mutations refused (402), reads still work${v.enforce ? "" : "; enforce=false: gates bypassed"}`,
      )
    case "invalid":
      return log.error(
        `${prefix}: invalid - the stored licence does not verify with this build's key (${v.problem?.code}: ${v.problem?.message}); mutations refused (402) until a valid licence is uploaded${v.enforce ? "" : "; enforce=false: gates bypassed"}`,
      )
  }
}

const stores = new WeakMap<object, LicenseStore>()

/**
 * The licence store of a pool context: `ctx.license` when the pool set one, else one created (and
 * remembered) for this context — so in-process route tests get the gate without extra wiring.
 */
export function licenseStoreFor(ctx: { db: { sql: Sql }; clock: Clock; license?: LicenseStore }): LicenseStore {
  if (ctx.license) return ctx.license
  let s = stores.get(ctx)
  if (!s) {
    s = new LicenseStore(ctx.db.sql, { clock: ctx.clock })
    stores.set(ctx, s)
  }
  return s
}
