// core/workers/agent-runtime — the pool's runtime flags on the worker (Advanced settings, per hardware
// class): context size, threads, batch size, parallel sequences, flash attention, KV cache type. A change
// waits for the running jobs (new ones are held, never refused), reloads the chat models with it and
// reports what the engines really run. Never talks to the pool itself: the agent sends a heartbeat after apply().
import { logger } from "../log.ts"
import { loadLlms, runtimeOf, withRuntimeFlags, type EngineOptions } from "./agent-engines.ts"
import type { AgentEngines, AgentJobs } from "./agent-jobs.ts"
import type { RuntimeFlags, RuntimeReport } from "./protocol.ts"

const log = logger("workers.agent")

const FIELDS = ["contextSize", "threads", "slots", "batchSize", "flashAttention", "kvCacheType"] as const

export class AgentRuntime {
  /** The engine options the models run with now: the worker's own, with the pool's flags over them. */
  options: EngineOptions
  /** The flags applied last and the engines' values, for every heartbeat once set. */
  report?: RuntimeReport
  /** Changes apply one after the other. */
  private chain: Promise<void> = Promise.resolve()

  constructor(
    private readonly own: EngineOptions,
    private readonly engines: AgentEngines,
    private readonly jobs: AgentJobs,
    /** The worker's audit trail (core/workers/agent-audit.ts). */
    private readonly trail: { record(event: string, detail: Record<string, unknown>): void },
  ) {
    this.options = own
  }

  /**
   * Apply the pool's flags: once the jobs running now are done (new ones wait), the chat models are
   * loaded again with them. Flags this machine cannot load are audited and the previous ones come back.
   */
  apply(flags: RuntimeFlags): Promise<void> {
    this.chain = this.chain
      .then(() => this.reload(flags))
      .catch((e) => log.error(`runtime flags ${JSON.stringify(flags)} not applied: ${(e as Error).message}`))
    return this.chain
  }

  private async reload(flags: RuntimeFlags) {
    const next = withRuntimeFlags(this.own, flags)
    const generation = (this.report?.generation ?? 0) + 1
    if (FIELDS.every((k) => next[k] === this.options[k]) || !this.engines.llm.size) {
      this.options = next
      this.report = { flags, generation, models: runtimeOf(this.engines) }
      return
    }
    const t0 = performance.now()
    await this.jobs.exclusive(async () => {
      for (const e of this.engines.llm.values()) await e.dispose()
      this.engines.llm.clear()
      try {
        await loadLlms(next, this.engines)
        this.options = next
      } catch (e) {
        log.error(
          `runtime flags ${JSON.stringify(flags)} could not be loaded (${(e as Error).message}); keeping the previous ones`,
        )
        this.trail.record("runtime_flags_failed", { flags, error: (e as Error).message })
        for (const m of this.engines.llm.values()) await m.dispose()
        this.engines.llm.clear()
        await loadLlms(this.options, this.engines)
        flags = this.report?.flags ?? {}
      }
    })
    this.report = { flags, generation, models: runtimeOf(this.engines) }
    log.info(
      `runtime flags applied in ${Math.round(performance.now() - t0)} ms: ${JSON.stringify(flags)} → ${JSON.stringify(this.report.models)}`,
    )
    this.trail.record("runtime_flags_applied", { flags, generation })
  }
}
