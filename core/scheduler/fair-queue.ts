// core/scheduler/fair-queue — one model's waiting jobs: strict priority between classes
// (interactive before batch), round-robin between clients inside a class, FIFO per client.
// One employee's batch script can fill its own lane but never push colleagues back.

export type Priority = "interactive" | "batch"
export const PRIORITIES: readonly Priority[] = ["interactive", "batch"]

export interface Fair {
  client: string
  priority: Priority
}

class Lane<T extends Fair> {
  /** Clients in service order; the head is served next. */
  private order: string[] = []
  private byClient = new Map<string, T[]>()
  size = 0

  push(item: T, front = false) {
    let q = this.byClient.get(item.client)
    if (!q) {
      q = []
      this.byClient.set(item.client, q)
      // A client that comes back joins the end of the rotation (or the head for a re-queued job).
      if (front) this.order.unshift(item.client)
      else this.order.push(item.client)
    } else if (front) {
      this.order = [item.client, ...this.order.filter((c) => c !== item.client)]
    }
    if (front) q.unshift(item)
    else q.push(item)
    this.size++
  }

  shift(): T | undefined {
    const client = this.order.shift()
    if (client === undefined) return undefined
    const q = this.byClient.get(client)!
    const item = q.shift()!
    this.size--
    if (q.length) this.order.push(client)
    else this.byClient.delete(client)
    return item
  }

  peek(): T | undefined {
    const client = this.order[0]
    return client === undefined ? undefined : this.byClient.get(client)![0]
  }

  remove(item: T): boolean {
    const q = this.byClient.get(item.client)
    const i = q?.indexOf(item) ?? -1
    if (!q || i < 0) return false
    q.splice(i, 1)
    this.size--
    if (!q.length) {
      this.byClient.delete(item.client)
      this.order = this.order.filter((c) => c !== item.client)
    }
    return true
  }

  *items(): Generator<T> {
    for (const q of this.byClient.values()) yield* q
  }

  countFor(client: string): number {
    return this.byClient.get(client)?.length ?? 0
  }
}

export class FairQueue<T extends Fair> {
  private lanes = new Map<Priority, Lane<T>>(PRIORITIES.map((p) => [p, new Lane<T>()]))

  get length(): number {
    let n = 0
    for (const l of this.lanes.values()) n += l.size
    return n
  }

  push(item: T) {
    this.lanes.get(item.priority)!.push(item)
  }

  /** Put back at the head (a job whose worker died keeps its place). */
  unshift(item: T) {
    this.lanes.get(item.priority)!.push(item, true)
  }

  shift(): T | undefined {
    for (const p of PRIORITIES) {
      const item = this.lanes.get(p)!.shift()
      if (item) return item
    }
    return undefined
  }

  /** The job shift() would return, left in place. */
  peek(): T | undefined {
    for (const p of PRIORITIES) {
      const item = this.lanes.get(p)!.peek()
      if (item) return item
    }
    return undefined
  }

  remove(item: T): boolean {
    return this.lanes.get(item.priority)!.remove(item)
  }

  *[Symbol.iterator](): Generator<T> {
    for (const p of PRIORITIES) yield* this.lanes.get(p)!.items()
  }

  /** Waiting jobs per client (for the dashboard and the per-client bound). */
  countFor(client: string): number {
    let n = 0
    for (const l of this.lanes.values()) n += l.countFor(client)
    return n
  }
}
