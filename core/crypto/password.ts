// core/crypto/password — Argon2id (hash-wasm, pure WASM so it works in the compiled binary), computed on
// worker threads: one hash is ~30 ms of CPU, and a login burst on the main thread froze the API.
// Concurrency is bounded: ARGON2_THREADS hashes at once, ARGON2_MAX_WAITING queued, the rest refused
// with 429 password_hashing_busy (Retry-After) rather than queued without end.
// Parameters follow OWASP's Argon2id baseline: 19 MiB memory, 2 iterations, 1 lane.
import { randomBytes } from "node:crypto"
import { TooManyRequests } from "../errors.ts"
import type { Argon2Reply, Argon2Request } from "./_argon2-worker.ts"

export const ARGON2_PARAMS = { memorySize: 19456, iterations: 2, parallelism: 1, hashLength: 32 } as const
export const ARGON2_THREADS = 2
export const ARGON2_MAX_WAITING = 32

export class PasswordHashingBusy extends TooManyRequests {
  constructor() {
    super("password_hashing_busy", "too many password checks at once; try again in a second", 1)
  }
}

/**
 * The worker's module. In a compiled binary (modules under /$bunfs) it is the build entry point named in
 * package.json, kept at its source path from the bundle root; from sources it sits next to this file.
 */
const WORKER_ENTRY = import.meta.path.startsWith("/$bunfs/")
  ? "/$bunfs/root/core/crypto/_argon2-worker.ts"
  : new URL("./_argon2-worker.ts", import.meta.url).href

/** Bun's Worker has ref/unref (Node's semantics); the DOM typing of Worker does not declare them. */
const handle = (w: Worker) => w as unknown as { ref(): void; unref(): void }

type Job = Argon2Request extends infer T ? (T extends unknown ? Omit<T, "id"> : never) : never

/** A fixed set of worker threads, each doing one Argon2 computation at a time. */
class Argon2Threads {
  private idle: Worker[] = []
  private started = 0
  private waiting: ((w: Worker) => void)[] = []
  private current = new Map<Worker, { resolve: (v: string | boolean) => void; reject: (e: Error) => void }>()
  private dead = new WeakSet<Worker>()

  async run(job: Job): Promise<string | boolean> {
    const worker = await this.acquire()
    // Referenced while it computes (a CLI awaiting the hash must not exit under it), unreferenced when idle.
    handle(worker).ref()
    try {
      return await new Promise<string | boolean>((resolve, reject) => {
        this.current.set(worker, { resolve, reject })
        worker.postMessage({ ...job, id: 0 } as Argon2Request)
      })
    } finally {
      this.current.delete(worker)
      handle(worker).unref()
      this.release(worker)
    }
  }

  private acquire(): Promise<Worker> {
    const w = this.idle.pop()
    if (w) return Promise.resolve(w)
    if (this.started < ARGON2_THREADS) return Promise.resolve(this.spawn())
    if (this.waiting.length >= ARGON2_MAX_WAITING) return Promise.reject(new PasswordHashingBusy())
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  private release(w: Worker) {
    if (this.dead.has(w)) {
      // A crashed thread is replaced, for whoever waits or on the next acquire.
      this.started--
      w.terminate()
      const next = this.waiting.shift()
      if (next) next(this.spawn())
      return
    }
    const next = this.waiting.shift()
    if (next) next(w)
    else this.idle.push(w)
  }

  private spawn(): Worker {
    this.started++
    const w = new Worker(WORKER_ENTRY)
    // Idle threads must not keep a CLI command (admin-reset-password, setup) from exiting.
    handle(w).unref()
    w.onmessage = (ev: MessageEvent<Argon2Reply>) => {
      const r = ev.data
      const p = this.current.get(w)
      if (r.ok) p?.resolve(r.value)
      else p?.reject(new Error(`argon2: ${r.error}`))
    }
    w.onerror = (ev) => {
      this.dead.add(w)
      this.current.get(w)?.reject(new Error(`argon2 worker failed: ${ev.message}`))
    }
    return w
  }
}

const threads = new Argon2Threads()

export async function hashPassword(password: string): Promise<string> {
  return (await threads.run({ op: "hash", password, salt: randomBytes(16), params: { ...ARGON2_PARAMS } })) as string
}

/** True when `password` matches `encoded`; throws PasswordHashingBusy when too many checks are queued. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  if (!encoded.startsWith("$argon2")) return false
  return (await threads.run({ op: "verify", password, hash: encoded })) === true
}

export const isArgon2Hash = (s: string) => s.startsWith("$argon2")
