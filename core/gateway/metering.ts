// core/gateway/metering — what a finished job cost, recorded against its API key (or anonymous) in
// this pool's usage table (core/auth/api-keys.ts). A failed write is logged, never fails the answer.
import type { ApiKeys } from "../auth/api-keys.ts"
import type { JobResult } from "../scheduler/scheduler.ts"
import { logger } from "../log.ts"
import type { Who } from "./admission.ts"

const log = logger("gateway")

/** The onDone callback that meters `who`'s job on `model`. */
export const meter = (keys: ApiKeys, poolName: string, who: Who, model: string) => (r: JobResult) =>
  void keys
    .record({
      keyId: who.keyId ?? null,
      model,
      promptTokens: r.usage.prompt_tokens,
      completionTokens: r.usage.completion_tokens,
      latencyMs: performance.now() - who.started,
      workerId: r.workerId,
      poolName,
    })
    .catch((e) => log.warn(`usage not recorded: ${(e as Error).message}`))
