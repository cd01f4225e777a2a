// core/auth/anonymous-access — whether the OpenAI API answers callers without an API key. Off until
// an admin turns it on: a cluster-wide switch (replicated setting "openai.anonymous_access", so every
// pool behind the entry agrees), which CELLULE_ANONYMOUS_ACCESS overrides when the installer sets it.
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { Conflict } from "../errors.ts"

export const ANONYMOUS_SETTING = "openai.anonymous_access"

export interface AnonymousState {
  /** What requests get now. */
  enabled: boolean
  /** Set by CELLULE_ANONYMOUS_ACCESS: the dashboard switch is shown but cannot change it. */
  forced: boolean
}

/** How long the switch is read from memory: a change reaches every request within this. */
const CACHE_MS = 1000

export class AnonymousAccess {
  private cached: { at: number; value: boolean } | undefined

  /**
   * `publish` writes the cluster-wide setting (federation kind "setting": applied here, then
   * gossiped to the bonded pools).
   */
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    private readonly forced: boolean | undefined,
    private readonly publish: (kind: string, payload: unknown) => Promise<unknown>,
  ) {}

  /** Checked on every API request; one query a second at most. */
  async allowed(): Promise<boolean> {
    if (this.forced !== undefined) return this.forced
    const now = this.clock.now()
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.value
    const [row] = await this.sql<
      { value: unknown }[]
    >`select value from cluster_settings where key = ${ANONYMOUS_SETTING}`
    this.cached = { at: now, value: row?.value === true }
    return this.cached.value
  }

  async state(): Promise<AnonymousState> {
    return { enabled: await this.allowed(), forced: this.forced !== undefined }
  }

  async set(enabled: boolean): Promise<AnonymousState> {
    if (this.forced !== undefined)
      throw new Conflict(
        `CELLULE_ANONYMOUS_ACCESS=${this.forced} is set on this pool and decides; remove it from the pool's environment to use the switch`,
        "anonymous_access_forced",
      )
    await this.publish("setting", { key: ANONYMOUS_SETTING, value: enabled })
    this.cached = undefined
    return this.state()
  }
}
