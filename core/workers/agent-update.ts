// core/workers/agent-update — the worker's side of a self_update offer: one at a time, audited from
// start to staging. Staging and trying the new binary are the caller's (cmd/worker: stageUpgrade, then
// upgrade-trial.ts once the agent stopped); this only sequences it.
import { VERSION } from "../version.ts"
import type { UpgradeOffer } from "./protocol.ts"

export type SelfUpdateHandler = (offer: UpgradeOffer, poolUrl: string) => Promise<void>

export class AgentSelfUpdate {
  private upgrading = false
  private restartWanted?: (reason: string) => void
  /** Resolves when the process should stop and try the new binary (it was staged). */
  readonly restart: Promise<string>

  constructor(
    private readonly install: SelfUpdateHandler | undefined,
    private readonly audit: (event: string, detail: Record<string, unknown>) => void,
    /** Deliver the audit events to the pool now rather than at the next heartbeat. */
    private readonly flush: () => void,
  ) {
    this.restart = new Promise((r) => (this.restartWanted = r))
  }

  async offer(offer: UpgradeOffer, poolUrl: string) {
    if (!this.install || this.upgrading) return
    this.upgrading = true
    this.audit("self_update_started", { to: offer.version, from: VERSION })
    try {
      await this.install(offer, poolUrl)
      this.audit("self_update_staged", { to: offer.version, from: VERSION })
      this.restartWanted?.(`v${offer.version} staged`)
    } catch (e) {
      this.audit("self_update_failed", { to: offer.version, from: VERSION, error: (e as Error).message })
      this.flush()
    } finally {
      this.upgrading = false
    }
  }
}
