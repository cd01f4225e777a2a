// core/catalog/probe — the model probe of admin guide §4.9.4: before a model file is assigned
// fleet-wide, the guide's control prompts (a greeting, an e-mail to a manager, a summary) run on one
// "guinea-pig" worker that serves the file, set apart from traffic while it answers (Scheduler.isolate).
// Each raw answer is checked for thinking or base-model behaviour: <think> tags, a numbered analytical
// preamble, leaked special tokens, an empty answer. Results and answers are kept in model_probes;
// assertAssignable() refuses an assignment until the probe passed or an administrator accepted it.
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { CelluleError, Conflict, NotFound, ServiceUnavailable } from "../errors.ts"
import { logger } from "../log.ts"
import type { Scheduler } from "../scheduler/scheduler.ts"
import { storedModel } from "./store.ts"

const log = logger("catalog.probe")

/** The guide's control chat test: "hello" + "write an email to my manager" + "summarize this text". */
export const CONTROL_PROMPTS: readonly { id: string; prompt: string }[] = [
  { id: "greeting", prompt: "Hello!" },
  { id: "email", prompt: "Write a short email to my manager asking to take Friday off." },
  {
    id: "summary",
    prompt:
      "Summarize this text in one sentence: The IT department will replace the office printers next week. " +
      "Printing will be unavailable on Tuesday morning while the technicians install the new machines.",
  },
]

export type ProbeFlag = "think_tags" | "numbered_preamble" | "special_tokens" | "empty_answer"

/** Tokens a chat answer never shows when its template was applied right (base models leak them). */
const SPECIAL =
  /<\|(?:im_start|im_end|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|end|user|assistant|system)\|>|<\/?s>|\[\/?INST\]|<start_of_turn>|<end_of_turn>/
/** A numbered step that analyses the request rather than answering it ("1. **Analyze the Request:**"). */
const PREAMBLE =
  /^\s*\d+[.)]\s+(?:\*\*|__)?\s*(?:analy[sz]|understand|identify|deconstruct|determin|consider|review|evaluat|assess|plan|draft|brainstorm|formulat|refin|think|reason|interpret|clarif|break)[^\n]*:/im

/** What is wrong with one raw answer (before any pool-side filter). */
export function inspectAnswer(text: string): ProbeFlag[] {
  const flags: ProbeFlag[] = []
  if (/<\/?think>/i.test(text)) flags.push("think_tags")
  if (PREAMBLE.test(text.replace(/<think>[\s\S]*?(<\/think>|$)/gi, ""))) flags.push("numbered_preamble")
  if (SPECIAL.test(text)) flags.push("special_tokens")
  if (!text.replace(/<think>[\s\S]*?(<\/think>|$)/gi, "").trim()) flags.push("empty_answer")
  return flags
}

export interface ProbeAnswer {
  id: string
  prompt: string
  answer: string
  flags: ProbeFlag[]
  finish_reason?: string
}

export interface ProbeResult {
  file_name: string
  sha256: string
  model_id: string
  status: "running" | "passed" | "flagged" | "failed"
  worker_id: string | null
  worker_name: string | null
  flags: ProbeFlag[]
  answers: ProbeAnswer[]
  error: string | null
  started_at: string
  finished_at: string | null
  accepted_by: string | null
  accepted_at: string | null
  /** Whether assertAssignable() lets this file be assigned. */
  assignable: boolean
}

export interface ProbeOptions {
  storeDir: string
  /** Tokens per control answer (enough to see a preamble or a think block open). */
  maxTokens?: number
  /** How long the chosen worker may take to finish the jobs it had before it is probed. */
  drainMs?: number
  /** How long one control answer may take. */
  answerTimeoutMs?: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class ModelProbe {
  private readonly running = new Map<string, Promise<void>>()

  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly opts: ProbeOptions,
  ) {}

  /**
   * Starts the probe of a store file on a live worker that serves it (its model id is the file name
   * without .gguf); resolves once it started. 503 probe_no_worker when no worker serves it.
   */
  async start(fileName: string): Promise<ProbeResult> {
    const m = await storedModel(this.sql, this.opts.storeDir, fileName)
    if (this.running.has(fileName)) throw new Conflict(`the probe of ${fileName} is already running`, "probe_running")
    const modelId = fileName.replace(/\.gguf$/, "")
    const candidates = this.scheduler
      .snapshot()
      .workers.filter((w) => w.models.some((s) => s.id === modelId && s.kind === "llm"))
      .sort((a, b) => busyOf(a, modelId) - busyOf(b, modelId))
    const w = candidates[0]
    if (!w)
      throw new ServiceUnavailable(
        "probe_no_worker",
        `no live worker serves ${modelId}: the probe needs one (a guinea-pig worker)`,
        `start a worker with --model ${fileName}, then start the probe again`,
      )
    await this
      .sql`insert into model_probes (file_name, sha256, model_id, status, worker_id, worker_name, flags, answers, started_at)
      values (${fileName}, ${m.sha256}, ${modelId}, 'running', ${w.id}, ${w.name}, '[]'::jsonb, '[]'::jsonb, ${new Date(this.clock.now())})
      on conflict (file_name) do update set sha256 = excluded.sha256, model_id = excluded.model_id, status = 'running',
        worker_id = excluded.worker_id, worker_name = excluded.worker_name, flags = '[]'::jsonb, answers = '[]'::jsonb,
        error = null, started_at = excluded.started_at, finished_at = null, accepted_by = null, accepted_at = null`
    log.info(`probing ${fileName} on worker ${w.name} (${w.id}), set apart from traffic`)
    const run = this.run(fileName, modelId, w.id).finally(() => this.running.delete(fileName))
    this.running.set(fileName, run)
    return this.result(fileName)
  }

  /** At start-up: a probe left running by a pool that stopped did not finish. */
  async recover(): Promise<void> {
    const rows = await this.sql`update model_probes set status = 'failed', error = 'the pool stopped during the probe',
      finished_at = ${new Date(this.clock.now())} where status = 'running' returning file_name`
    for (const r of rows) log.warn(`probe of ${r.file_name} did not finish before the pool stopped; marked failed`)
  }

  /** Waits for a running probe to end (tests, shutdown). */
  async settled(fileName: string): Promise<void> {
    await this.running.get(fileName)
  }

  private async run(fileName: string, modelId: string, workerId: string): Promise<void> {
    const giveBack = this.scheduler.isolate(workerId)
    const answers: ProbeAnswer[] = []
    try {
      // the guinea pig first finishes what it was doing (nothing new reaches it meanwhile)
      const drainUntil = this.clock.now() + (this.opts.drainMs ?? 60_000)
      while (this.scheduler.runningOn(workerId) > 0) {
        if (this.clock.now() > drainUntil)
          throw new ServiceUnavailable("probe_worker_busy", `the worker did not finish its jobs in time`)
        await sleep(100)
      }
      for (const c of CONTROL_PROMPTS) {
        const { text, finish } = await this.ask(workerId, modelId, c.prompt)
        answers.push({ id: c.id, prompt: c.prompt, answer: text, flags: inspectAnswer(text), finish_reason: finish })
      }
      const flags = [...new Set(answers.flatMap((a) => a.flags))]
      const status = flags.length ? "flagged" : "passed"
      await this.sql`update model_probes set status = ${status}, flags = ${JSON.stringify(flags)}::text::jsonb,
        answers = ${JSON.stringify(answers)}::text::jsonb, finished_at = ${new Date(this.clock.now())} where file_name = ${fileName}`
      log.info(`probe of ${fileName}: ${status}${flags.length ? ` (${flags.join(", ")})` : ""}`)
    } catch (e) {
      const message = (e as Error).message
      await this.sql`update model_probes set status = 'failed', error = ${message},
        answers = ${JSON.stringify(answers)}::text::jsonb, finished_at = ${new Date(this.clock.now())} where file_name = ${fileName}`.catch(
        () => {},
      )
      log.warn(`probe of ${fileName} failed: ${message}`)
    } finally {
      giveBack()
    }
  }

  /** One control prompt on the isolated worker: the raw text, no pool-side filter. */
  private ask(workerId: string, model: string, prompt: string): Promise<{ text: string; finish: string }> {
    return new Promise((resolve, reject) => {
      let text = ""
      const job = this.scheduler.runOn(
        workerId,
        model,
        "chat",
        { messages: [{ role: "user", content: prompt }], max_tokens: this.opts.maxTokens ?? 256, temperature: 0 },
        {
          // a job re-queued after losing its worker may land elsewhere: that is no probe of this worker
          onStart: (id) =>
            id !== workerId && fail(new CelluleError("probe_worker_lost", "the probed worker left", 502)),
          onToken: (t) => (text += t),
          onRetry: () => (text = ""),
          onDone: (r) => {
            clearTimeout(timer)
            resolve({ text, finish: r.finishReason })
          },
          onError: (e) => {
            clearTimeout(timer)
            reject(e)
          },
        },
      )
      const fail = (e: Error) => {
        clearTimeout(timer)
        this.scheduler.cancel(job)
        reject(e)
      }
      const timer = setTimeout(
        () => fail(new CelluleError("probe_timeout", "a control answer took too long", 504)),
        this.opts.answerTimeoutMs ?? 120_000,
      )
    })
  }

  /** The last probe of a file; 404 probe_not_run when it never ran. */
  async result(fileName: string): Promise<ProbeResult> {
    const [r] = await this.sql<
      Row[]
    >`select *, flags::text as flags, answers::text as answers from model_probes where file_name = ${fileName}`
    if (!r) throw new NotFound(`${fileName} has not been probed`, "probe_not_run")
    let current: string | undefined
    try {
      current = (await storedModel(this.sql, this.opts.storeDir, fileName)).sha256
    } catch {
      current = undefined
    }
    return shape(r, current)
  }

  /** An administrator accepts the model despite its flags (or a failed probe). */
  async accept(fileName: string, by: string): Promise<ProbeResult> {
    // A file no worker runs yet cannot be probed (the probe needs a guinea-pig worker already serving it),
    // so an administrator may accept it unprobed: recorded as a failed probe that says so, and accepted.
    const [seen] = await this.sql<{ n: number }[]>`select 1 as n from model_probes where file_name = ${fileName}`
    if (!seen) {
      const m = await storedModel(this.sql, this.opts.storeDir, fileName)
      const now = new Date(this.clock.now())
      await this.sql`insert into model_probes (file_name, sha256, model_id, status, error, started_at, finished_at)
        values (${fileName}, ${m.sha256}, ${fileName.replace(/\.gguf$/i, "")}, 'failed', 'accepted without a probe', ${now}, ${now})
        on conflict (file_name) do nothing`
    }
    const r = await this.result(fileName)
    if (r.status === "running") throw new Conflict(`the probe of ${fileName} is still running`, "probe_running")
    await this
      .sql`update model_probes set accepted_by = ${by}, accepted_at = ${new Date(this.clock.now())} where file_name = ${fileName}`
    log.info(`probe of ${fileName} (${r.status}) accepted by ${by}`)
    return this.result(fileName)
  }

  /** Throws 409 unless the file's current content passed its probe or an administrator accepted it. */
  async assertAssignable(fileName: string): Promise<void> {
    const m = await storedModel(this.sql, this.opts.storeDir, fileName)
    const [r] = await this.sql<
      Row[]
    >`select *, flags::text as flags, answers::text as answers from model_probes where file_name = ${fileName}`
    const hint = `run the probe first: POST /v1/admin/models/${fileName}/probe`
    if (!r) throw new Conflict(`${fileName} has not been probed; ${hint}`, "model_not_probed")
    const p = shape(r, m.sha256)
    if (p.assignable) return
    if (r.sha256 !== m.sha256) throw new Conflict(`${fileName} changed since its probe; ${hint}`, "model_probe_stale")
    if (p.status === "running") throw new Conflict(`the probe of ${fileName} is still running`, "probe_running")
    throw new Conflict(
      `the probe of ${fileName} ${p.status === "failed" ? "failed" : `flagged ${p.flags.join(", ")}`}; an administrator must accept it (POST /v1/admin/models/${fileName}/probe/accept)`,
      "model_probe_flagged",
    )
  }
}

/** jsonb is read as text and parsed here: drivers differ on whether it arrives parsed. */
type Row = {
  file_name: string
  sha256: string
  model_id: string
  status: ProbeResult["status"]
  worker_id: string | null
  worker_name: string | null
  flags: string
  answers: string
  error: string | null
  started_at: Date
  finished_at: Date | null
  accepted_by: string | null
  accepted_at: Date | null
}

function shape(r: Row, currentSha?: string): ProbeResult {
  const fresh = currentSha === undefined || currentSha === r.sha256
  const ok = r.status === "passed" || (r.status !== "running" && r.accepted_at !== null)
  return {
    file_name: r.file_name,
    sha256: r.sha256,
    model_id: r.model_id,
    status: r.status,
    worker_id: r.worker_id,
    worker_name: r.worker_name,
    flags: JSON.parse(r.flags) as ProbeFlag[],
    answers: JSON.parse(r.answers) as ProbeAnswer[],
    error: r.error,
    started_at: new Date(r.started_at).toISOString(),
    finished_at: r.finished_at ? new Date(r.finished_at).toISOString() : null,
    accepted_by: r.accepted_by,
    accepted_at: r.accepted_at ? new Date(r.accepted_at).toISOString() : null,
    assignable: fresh && ok,
  }
}

function busyOf(w: { models: { id: string; busy: number }[] }, model: string): number {
  return w.models.find((s) => s.id === model)?.busy ?? 0
}
