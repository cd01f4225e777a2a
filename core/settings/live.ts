// core/settings/live — the Advanced settings that act while the pool runs: the runtime flags per hardware
// class, pushed to the connected workers of that class when they change (here or on a bonded pool), and
// the MoE profile the scheduler reads for `"model": "auto"`. One sweep of the replicated table every
// 500 ms (and at once after a change here); never writes.
import {
  HARDWARE_CLASSES,
  parseMoeProfile,
  parseRuntimeFlags,
  type MoeProfile,
  type RuntimeFlags,
} from "../config/cluster-settings.ts"
import type { Sql } from "../db/client.ts"
import { Loop } from "../federation/loop.ts"
import { logger } from "../log.ts"

const log = logger("settings")

export const LIVE_SWEEP_MS = 500

export interface LiveSettingsOptions {
  /** Send new flags to every connected worker of a class (the worker hub). */
  pushRuntimeFlags: (hardwareClass: string, flags: RuntimeFlags) => void
  intervalMs?: number
}

export class LiveSettings {
  private readonly loop: Loop
  private flags = new Map<string, { raw: string; flags: RuntimeFlags }>()
  private moeRaw: string | undefined
  /** The MoE profile now (undefined: never set, every live chat model serves "auto"). */
  moe: MoeProfile | undefined

  constructor(
    private readonly sql: Sql,
    private readonly o: LiveSettingsOptions,
  ) {
    this.loop = new Loop("live settings", o.intervalMs ?? LIVE_SWEEP_MS, () => this.tick(), log)
  }

  /** The runtime flags of a hardware class, for a worker's welcome. */
  runtimeFlags(hardwareClass: string): RuntimeFlags | undefined {
    return this.flags.get(hardwareClass)?.flags
  }

  async start() {
    await this.tick()
    this.loop.start()
  }

  kick() {
    this.loop.kick()
  }

  stop() {
    return this.loop.stop()
  }

  private async tick() {
    const rows = await this.sql<{ key: string; value: string }[]>`
      select key, value::text as value from cluster_settings where key like 'runtime_flags.%' or key = 'moe.profile'`
    for (const r of rows) {
      if (r.key === "moe.profile") {
        if (r.value === this.moeRaw) continue
        this.moeRaw = r.value
        try {
          this.moe = parseMoeProfile(JSON.parse(r.value))
          log.info(`MoE profile now ${r.value}`)
        } catch (e) {
          log.warn(`ignoring a stored MoE profile: ${(e as Error).message}`)
        }
        continue
      }
      const cls = r.key.slice("runtime_flags.".length)
      if (!(HARDWARE_CLASSES as readonly string[]).includes(cls) || this.flags.get(cls)?.raw === r.value) continue
      let flags: RuntimeFlags
      try {
        flags = parseRuntimeFlags(JSON.parse(r.value))
      } catch (e) {
        log.warn(`ignoring stored runtime flags for ${cls}: ${(e as Error).message}`)
        continue
      }
      const first = !this.flags.has(cls)
      this.flags.set(cls, { raw: r.value, flags })
      // At start-up the workers are not connected yet: they get the flags in their welcome.
      if (!first || this.loop.state === "running") this.o.pushRuntimeFlags(cls, flags)
    }
  }
}
