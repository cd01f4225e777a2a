// core/scheduler/pick-heap — per model, the workers able to take a job, best first, so a scheduling
// decision costs O(log n) instead of a scan of the fleet (bench/fleet: 5 000 workers). Entries are
// never updated in place: a change pushes a fresh entry and bumps the owner's version, and entries
// whose version is stale are dropped when they reach the top (or at compaction). No I/O.

export interface PickEntry<T> {
  item: T
  /** The owner's version when pushed; the entry is live while they are equal. */
  ver: number
  /** 0 available, 1 throttled. */
  rank: number
  /** busy / slots. */
  load: number
  /** Last assignment time: least recently used first. */
  last: number
  /** Arrival order: the first-connected worker wins a full tie. */
  seq: number
}

const before = <T>(a: PickEntry<T>, b: PickEntry<T>) =>
  a.rank !== b.rank
    ? a.rank < b.rank
    : a.load !== b.load
      ? a.load < b.load
      : a.last !== b.last
        ? a.last < b.last
        : a.seq < b.seq

export class PickHeap<T> {
  private h: PickEntry<T>[] = []

  constructor(private readonly live: (e: PickEntry<T>) => boolean) {}

  get size() {
    return this.h.length
  }

  push(e: PickEntry<T>) {
    const h = this.h
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i], h[p])) break
      ;[h[i], h[p]] = [h[p], h[i]]
      i = p
    }
  }

  /** The best live entry, dropping stale ones on the way; undefined when no one can take a job. */
  peek(): PickEntry<T> | undefined {
    while (this.h.length && !this.live(this.h[0])) this.popTop()
    return this.h[0]
  }

  /** Drop stale entries once they outnumber the live ones (called with the live count). */
  compact(liveCount: number) {
    if (this.h.length <= 2 * liveCount + 64) return
    const kept = this.h.filter(this.live)
    this.h = []
    for (const e of kept) this.push(e)
  }

  private popTop() {
    const h = this.h
    const last = h.pop()!
    if (!h.length) return
    h[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && before(h[l], h[m])) m = l
      if (r < h.length && before(h[r], h[m])) m = r
      if (m === i) return
      ;[h[i], h[m]] = [h[m], h[i]]
      i = m
    }
  }
}
