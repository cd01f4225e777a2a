// core/db/socket-queue — the order in which the embedded database's socket clients reach its one
// backend. pglite-socket's own queue switches clients between any two protocol messages (outside a
// transaction), so one client's Bind/Execute could run against another's unnamed statement or portal:
// with the pool's connection and an admin tool (or a test) connected at once, queries failed with
// `portal "" does not exist` or a DataRow reached the wrong client. Here a client keeps the backend
// from its first message until its Sync or simple Query ends the exchange, and for as long as a
// transaction it opened is running.
import type { PGlite } from "@electric-sql/pglite"

interface Item {
  handlerId: number
  message: Uint8Array
  onData: (data: Uint8Array) => void
  resolve: (bytes: number) => void
  reject: (err: unknown) => void
}

// Frontend message types after which the backend holds no state for the client outside a transaction:
// Sync, simple Query, Terminate, and the password reply of the start-up exchange.
const ENDS_EXCHANGE = new Set(["S", "Q", "X", "p"].map((c) => c.charCodeAt(0)))

/** Drop-in for pglite-socket's queue (same three methods its connection handlers call). */
export class ExchangeQueue {
  private queue: Item[] = []
  /** The client holding the backend mid-exchange or mid-transaction; null when free. */
  private owner: number | null = null
  private running = false
  /** The client whose message the backend is running now; null between messages. */
  private current: number | null = null
  /** Clients that went away while one of their messages ran: what they hold is freed once it ends. */
  private readonly gone = new Set<number>()

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject })
      void this.pump()
    })
  }

  getQueueLength() {
    return this.queue.length
  }

  clearQueueForHandler(handlerId: number) {
    this.queue = this.queue.filter((q) => {
      if (q.handlerId !== handlerId) return true
      q.reject(new Error("connection closed"))
      return false
    })
  }

  /**
   * A client that went away frees the backend, rolling back a transaction it left open. One whose message
   * is running (its BEGIN, say) is freed when that message ends: the backend only then says whether it
   * opened a transaction, and a dead client kept as owner would hold it from every other for good.
   */
  async clearTransactionIfNeeded(handlerId: number) {
    if (this.current === handlerId) {
      this.gone.add(handlerId)
      return
    }
    await this.free(handlerId)
    void this.pump()
  }

  /** Never rejects: pglite-socket calls it without awaiting, and Bun ends the process on an unhandled rejection. */
  private async free(handlerId: number) {
    if (this.owner !== handlerId) return
    try {
      if (this.db.isInTransaction()) await this.db.exec("ROLLBACK")
    } catch {
      // The database is closing (the pool stops): nothing is left to hold.
    }
    this.owner = null
  }

  private next(): Item | undefined {
    if (this.owner === null) return this.queue.shift()
    const i = this.queue.findIndex((q) => q.handlerId === this.owner)
    return i === -1 ? undefined : this.queue.splice(i, 1)[0]
  }

  private async pump() {
    if (this.running) return
    this.running = true
    try {
      for (let item = this.next(); item; item = this.next()) {
        let bytes = 0
        let failed: { error: unknown } | undefined
        this.current = item.handlerId
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item!.message, {
              onRawData: (data) => {
                bytes += data.length
                item!.onData(data)
              },
            }),
          )
        } catch (e) {
          failed = { error: e }
        }
        this.current = null
        if (failed) {
          if (this.owner === item.handlerId && !this.db.isInTransaction()) this.owner = null
        } else {
          // The start-up message has no type byte (it begins with its length, whose first byte is 0).
          const ends = item.message[0] === 0 || ENDS_EXCHANGE.has(item.message[0])
          this.owner = ends && !this.db.isInTransaction() ? null : item.handlerId
        }
        if (this.gone.delete(item.handlerId)) await this.free(item.handlerId)
        if (failed) item.reject(failed.error)
        else item.resolve(bytes)
      }
    } finally {
      this.running = false
    }
  }
}
