// core/gateway/jobs — running one inference job to completion for a non-streaming answer: tokens are
// collected (reasoning blocks stripped), a retry on another worker starts the text over, and the job is
// cancelled when the caller goes away. Streaming answers are shaped at the edge (core/http/openai-api.ts).
import type { Job, JobKind, JobResult, Scheduler } from "../scheduler/scheduler.ts"
import type { JobParams } from "../workers/protocol.ts"
import { createThinkStripper } from "../inference/think.ts"
import type { TextFilter } from "../inference/preamble.ts"
import type { Who } from "./admission.ts"

export function collect(
  scheduler: Scheduler,
  signal: AbortSignal,
  who: Who,
  model: string,
  kind: JobKind,
  params: JobParams,
  meter: (r: JobResult) => void,
  /** What the answer's text goes through (the chat route's guidance); default: the <think> strip. */
  filter: () => TextFilter = createThinkStripper,
) {
  return new Promise<{ text: string; result: JobResult }>((resolve, reject) => {
    let think = filter()
    let text = ""
    let job: Job | undefined
    const onAbort = () => job && scheduler.cancel(job)
    job = scheduler.submit(
      model,
      kind,
      params,
      {
        onToken: (t) => (text += think.push(t)),
        onRetry: () => {
          text = ""
          think = filter()
        },
        onDone: (result) => {
          signal.removeEventListener("abort", onAbort)
          meter(result)
          resolve({ text: text + think.flush(), result })
        },
        onError: (e) => {
          signal.removeEventListener("abort", onAbort)
          reject(e)
        },
      },
      who,
    )
    signal.addEventListener("abort", onAbort, { once: true })
  })
}
