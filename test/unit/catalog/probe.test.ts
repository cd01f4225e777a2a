// ModelProbe (core/catalog/probe.ts) in-process: a real Scheduler with a fake worker that answers each
// control prompt with a fixed text, a real database and store folder. The probe runs on the worker set
// apart from traffic, stores the answers, and assertAssignable follows passed / flagged / accepted /
// changed file; a probe left running by a stopped pool is marked failed.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { ManualClock } from "../../../core/clock.ts"
import type { Database } from "../../../core/db/client.ts"
import { ModelProbe } from "../../../core/catalog/probe.ts"
import { Scheduler, type WorkerLink } from "../../../core/scheduler/scheduler.ts"
import type { PoolMessage } from "../../../core/workers/protocol.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll, tempDir } from "../../support/proc.ts"

let db: Database
const store = tempDir("cellule-store-")
const clock = new ManualClock()
const scheduler = new Scheduler({ clock, maxQueue: 0, queueTimeoutMs: 60_000, heartbeatMs: 1000 })
const answers: Record<string, string> = { plain: "Hello!", think: "<think>hm</think>Hello!" }
const seen: string[] = []
/** While set, the fake worker keeps its answers until flush(). */
let hold = false
const pending: (() => void)[] = []
const flush = () => {
  hold = false
  for (const f of pending.splice(0)) f()
}

function fakeWorker(id: string, model: string, slots: number) {
  const link: WorkerLink = {
    send: (m: PoolMessage) => {
      if (m.type !== "job") return
      seen.push(m.model)
      const answer = () => {
        scheduler.onWorkerMessage(w, { type: "token", job_id: m.job_id, text: answers[model]! })
        scheduler.onWorkerMessage(w, {
          type: "done",
          job_id: m.job_id,
          finish_reason: "stop",
          usage: { prompt_tokens: 1, completion_tokens: 1 },
        })
      }
      if (hold) pending.push(answer)
      else queueMicrotask(answer)
    },
    close: () => {},
  }
  const w = scheduler.addWorker(
    {
      type: "hello",
      v: 1,
      worker_id: id,
      name: id,
      version: "t",
      hardware: { os: "linux", arch: "x64", cpu_threads: 2, ram_mb: 1024 },
      models: [{ id: model, kind: "llm", slots }],
      activity: "available",
    },
    link,
  )
}

let probe: ModelProbe
beforeAll(async () => {
  db = await testDatabase()
  writeFileSync(join(store, "plain.gguf"), "plain model bytes")
  writeFileSync(join(store, "think.gguf"), "think model bytes")
  writeFileSync(join(store, "orphan.gguf"), "no worker serves this")
  fakeWorker("worker-plain", "plain", 2)
  fakeWorker("worker-think", "think", 1)
  probe = new ModelProbe(db.sql, clock, scheduler, { storeDir: store })
}, 120_000)
afterAll(cleanupAll)

test("passed and flagged probes, and what they allow", async () => {
  await expect(probe.assertAssignable("plain.gguf")).rejects.toMatchObject({ code: "model_not_probed", status: 409 })
  // an ordinary request arrives while the plain model is probed: the worker has a free slot, but is set apart
  hold = true
  expect((await probe.start("plain.gguf")).status).toBe("running")
  expect(seen).toEqual(["plain"])
  let served = 0
  scheduler.submit("plain", "chat", { messages: [] }, { onToken: () => {}, onDone: () => served++, onError: () => {} })
  expect(scheduler.snapshot().queue_depth).toBe(1)
  expect(seen).toEqual(["plain"])
  flush()
  await probe.settled("plain.gguf")
  const plain = await probe.result("plain.gguf")
  expect(plain).toMatchObject({ status: "passed", flags: [], worker_name: "worker-plain", assignable: true })
  expect(plain.answers.map((a) => a.answer)).toEqual(["Hello!", "Hello!", "Hello!"])
  await probe.assertAssignable("plain.gguf")
  // given back after the probe, the worker serves the request that waited
  expect(seen).toEqual(["plain", "plain", "plain", "plain"])
  await Promise.resolve()
  expect(served).toBe(1)

  await probe.start("think.gguf")
  await probe.settled("think.gguf")
  expect(await probe.result("think.gguf")).toMatchObject({
    status: "flagged",
    flags: ["think_tags"],
    assignable: false,
  })
  await expect(probe.assertAssignable("think.gguf")).rejects.toMatchObject({ code: "model_probe_flagged" })
  expect((await probe.accept("think.gguf", "admin@x")).assignable).toBe(true)
  await probe.assertAssignable("think.gguf")

  // the file changes: its probe no longer counts
  clock.advance(5000)
  writeFileSync(join(store, "plain.gguf"), "plain model bytes, retrained")
  await expect(probe.assertAssignable("plain.gguf")).rejects.toMatchObject({ code: "model_probe_stale" })
  expect((await probe.result("plain.gguf")).assignable).toBe(false)
})

test("no worker serves the file: 503 probe_no_worker; not in the store: 404", async () => {
  await expect(probe.start("orphan.gguf")).rejects.toMatchObject({ code: "probe_no_worker", status: 503 })
  await expect(probe.start("absent.gguf")).rejects.toMatchObject({ code: "model_file_not_found", status: 404 })
  await expect(probe.result("orphan.gguf")).rejects.toMatchObject({ code: "probe_not_run", status: 404 })
})

test("a probe left running by a stopped pool is marked failed at start-up", async () => {
  await db.sql`insert into model_probes (file_name, sha256, model_id, status) values ('orphan.gguf', 'x', 'orphan', 'running')`
  await new ModelProbe(db.sql, clock, scheduler, { storeDir: store }).recover()
  expect(await probe.result("orphan.gguf")).toMatchObject({
    status: "failed",
    error: "the pool stopped during the probe",
  })
})
