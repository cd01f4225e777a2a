// core/proxy/discovery — pools found through the federation (CELLULE_PROXY_DISCOVER): each interval one
// upstream answers GET /v1/federation/entry-pools and the set becomes the listed pools ∪ that answer.
// It never removes a listed (static) pool, and never empties the set when no pool answers.
import type { Clock } from "../clock.ts"
import { Loop } from "../federation/loop.ts"
import type { EntryPool } from "../federation/peers.ts"
import { log } from "./_log.ts"
import { normalisePoolUrl, type Upstreams } from "./upstreams.ts"

export const ENTRY_POOLS_PATH = "/v1/federation/entry-pools"

export type { EntryPool }

/**
 * The upstream set: the static pools, then each discovered pool not already in it. A pool is already in
 * it when its URL is, or when its atom is known to answer at a URL in it (a pool listed by an address
 * other than its POOL_URL). Entries whose URL is not a pool origin are returned as `rejected`.
 */
export function mergeUpstreams(
  staticUrls: readonly string[],
  discovered: readonly EntryPool[],
  atomOf: ReadonlyMap<string, string> = new Map(),
): { urls: string[]; rejected: string[] } {
  const urls = [...staticUrls]
  const seenUrls = new Set(urls)
  const seenAtoms = new Set(urls.map((u) => atomOf.get(u)).filter((a): a is string => !!a))
  const rejected: string[] = []
  for (const p of discovered) {
    let url: string
    try {
      url = normalisePoolUrl(String(p.url), ENTRY_POOLS_PATH)
    } catch {
      rejected.push(String(p.url))
      continue
    }
    if (seenUrls.has(url) || seenAtoms.has(p.atom_id)) continue
    urls.push(url)
    seenUrls.add(url)
    seenAtoms.add(p.atom_id)
  }
  return { urls, rejected }
}

function parseAnswer(body: unknown): { atom_id: string; pools: EntryPool[] } {
  const b = body as { atom_id?: unknown; pools?: unknown }
  if (typeof b?.atom_id !== "string" || !Array.isArray(b.pools)) throw new Error("not an entry-pools answer")
  const pools = b.pools
    .filter((p): p is EntryPool => typeof p?.url === "string" && typeof p?.atom_id === "string")
    .map((p) => ({ url: p.url, atom_id: p.atom_id, pool_name: typeof p.pool_name === "string" ? p.pool_name : null }))
  return { atom_id: b.atom_id, pools }
}

export class Discovery {
  private readonly loop: Loop
  /** Which atom answers at which URL, learnt from the answers (the pool asked, and every entry). */
  private readonly atomOf = new Map<string, string>()
  private last: EntryPool[] = []
  /** Set once "no pool answered" has been logged, so a long outage logs once, not every tick. */
  private unanswered = false
  /** Bad entries already logged. */
  private readonly rejected = new Set<string>()
  /** The upstream whose answer is in use. */
  source?: string

  constructor(
    private readonly upstreams: Upstreams,
    private staticUrls: string[],
    private readonly clock: Clock,
    private readonly opts: { intervalMs: number; timeoutMs: number },
  ) {
    this.loop = new Loop("discovery", opts.intervalMs, () => this.tick(), log)
  }

  get state() {
    return this.loop.state
  }

  start(): void {
    if (this.loop.state === "idle")
      log.info(`discovery: asking the pools for their federation's pools every ${this.opts.intervalMs} ms`)
    this.loop.start({ immediate: true })
  }

  stop(): Promise<void> {
    return this.loop.stop()
  }

  /** A new static list (SIGHUP): merged at once with the last answer. */
  setStatic(urls: string[]): void {
    this.staticUrls = urls
    this.apply()
  }

  /** One round: the pools in rotation first, each asked in turn until one answers. */
  async tick(): Promise<void> {
    const now = this.clock.now()
    const all = this.upstreams.all()
    const order = [...all.filter((u) => u.available(now)), ...all.filter((u) => !u.available(now))]
    const errors: string[] = []
    for (const u of order) {
      if (this.loop.state === "draining" || this.loop.state === "stopped") return
      let answer: ReturnType<typeof parseAnswer>
      try {
        answer = await this.ask(u.url)
      } catch (e) {
        const err = e as { code?: string; name?: string; message?: string }
        errors.push(`${u.url}: ${err.code ?? (err.name === "TimeoutError" ? "timeout" : err.message)}`)
        continue
      }
      if (this.unanswered || this.source !== u.url) log.info(`discovery: answered by ${u.url}`)
      this.unanswered = false
      this.source = u.url
      this.atomOf.set(u.url, answer.atom_id)
      for (const p of answer.pools) {
        try {
          this.atomOf.set(normalisePoolUrl(p.url, ENTRY_POOLS_PATH), p.atom_id)
        } catch {
          // Reported by apply() as rejected.
        }
      }
      this.last = answer.pools
      this.apply()
      return
    }
    if (!this.unanswered)
      log.warn(
        `discovery: no pool answered ${ENTRY_POOLS_PATH} (${errors.join("; ") || "no upstreams"}); keeping the ${all.length} current upstream(s)`,
      )
    this.unanswered = true
  }

  private async ask(url: string) {
    const res = await fetch(`${url}${ENTRY_POOLS_PATH}`, {
      signal: AbortSignal.timeout(this.opts.timeoutMs),
      redirect: "manual",
    })
    if (!res.ok) {
      await res.body?.cancel().catch(() => {})
      throw new Error(`HTTP ${res.status}`)
    }
    return parseAnswer(await res.json())
  }

  private apply(): void {
    const { urls, rejected } = mergeUpstreams(this.staticUrls, this.last, this.atomOf)
    for (const r of rejected) {
      if (this.rejected.has(r)) continue
      this.rejected.add(r)
      log.warn(`discovery: ignoring "${r}" from ${this.source}: not a pool URL`)
    }
    const before = new Set(this.upstreams.all().map((u) => u.url))
    const after = new Set(urls)
    const added = urls.filter((u) => !before.has(u))
    const removed = [...before].filter((u) => !after.has(u))
    if (!added.length && !removed.length) return
    this.upstreams.replace(urls)
    const names = new Map(
      [...this.atomOf].map(([u, atom]) => [u, this.last.find((p) => p.atom_id === atom)?.pool_name]),
    )
    const show = (u: string) => (names.get(u) ? `${u} (${names.get(u)})` : u)
    log.info(
      `discovery: upstreams ${[...added.map((u) => `+${show(u)}`), ...removed.map((u) => `-${u}`)].join(", ")}; now ${urls.length} pool(s)`,
    )
  }
}
