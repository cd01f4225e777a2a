// core/catalog/master — the catalogue's master / satellite role (admin guide §4.6.3, issue 18). One
// pool at a time takes catalogue writes (upload, delete, assignments); the others answer 409
// catalogue_read_only naming the master's URL. The record is the replicated kind "catalogue_master":
// a pool configured as master (CELLULE_CATALOGUE_MASTER, default on) claims epoch 1 when no record
// exists; a promotion takes the next epoch. A dead master is never replaced on its own, and an old
// master that returns reads the newer record and is a satellite.
import type { Sql } from "../db/client.ts"
import { Conflict } from "../errors.ts"
import { logger } from "../log.ts"
import { catalogueMaster, type CatalogueMasterPayload } from "../federation/kinds/catalogue-master.ts"
import type { ReplicatedKind } from "../federation/kinds/index.ts"
import { encodeHlc } from "../federation/hlc.ts"

const log = logger("catalog")

export class CatalogueReadOnly extends Conflict {
  constructor(readonly masterUrl: string | null) {
    super(
      `this pool is a catalogue satellite (read-only): write to the master pool${masterUrl ? ` at ${masterUrl}` : ""}`,
      "catalogue_read_only",
    )
  }
  override extra() {
    return { master_url: this.masterUrl }
  }
}

export interface CatalogueRoleView {
  role: "master" | "satellite"
  master: (CatalogueMasterPayload & { hlc: string; origin: string }) | null
}

export class CatalogueRole {
  constructor(
    private readonly sql: Sql,
    private readonly self: { id: () => string; url: () => string },
    private readonly configuredMaster: boolean,
    /** Replicates a change (federation kind); absent: applied to this pool only. */
    private readonly publish?: (kind: string, payload: unknown) => Promise<unknown>,
  ) {}

  async view(): Promise<CatalogueRoleView> {
    const [row] = await this.sql`select pool, url, epoch, promoted_by, hlc, origin from catalogue_master`
    const master = row
      ? {
          pool: row.pool,
          url: row.url,
          epoch: Number(row.epoch),
          promoted_by: row.promoted_by,
          hlc: row.hlc,
          origin: row.origin,
        }
      : null
    const role = master
      ? master.pool === this.self.id()
        ? "master"
        : "satellite"
      : this.configuredMaster
        ? "master"
        : "satellite"
    return { role, master }
  }

  /** Throws 409 catalogue_read_only on a satellite. */
  async requireWriter(): Promise<void> {
    const v = await this.view()
    if (v.role !== "master") throw new CatalogueReadOnly(v.master?.url ?? null)
  }

  /** A catalogue change, replicated as its kind (signed envelope), or applied here alone without federation. */
  async replicate<P>(kind: ReplicatedKind<P>, payload: P): Promise<void> {
    if (this.publish) await this.publish(kind.kind, payload)
    else
      await kind.apply(this.sql, kind.parse(payload), {
        hlc: encodeHlc({ wall: Date.now(), counter: 0 }),
        origin: this.self.id(),
      })
  }

  private write(p: CatalogueMasterPayload) {
    return this.replicate(catalogueMaster, p)
  }

  /** At boot: a pool configured as master with no record yet claims epoch 1. */
  async claimAtBoot(): Promise<void> {
    if (!this.configuredMaster) return
    const v = await this.view()
    if (v.master) {
      if (v.master.pool !== this.self.id())
        log.info(`catalogue satellite: the master is ${v.master.pool} (${v.master.url}), epoch ${v.master.epoch}`)
      return
    }
    await this.write({ pool: this.self.id(), url: this.self.url(), epoch: 1, promoted_by: "boot" })
    log.info("catalogue master (epoch 1): this pool takes catalogue writes")
  }

  /** Makes this pool the master (the admin's explicit promotion): the next epoch, replicated. */
  async promote(by: string): Promise<CatalogueRoleView> {
    const v = await this.view()
    const epoch = (v.master?.epoch ?? 0) + 1
    await this.write({ pool: this.self.id(), url: this.self.url(), epoch, promoted_by: by })
    log.info(`catalogue master promoted here by ${by} (epoch ${epoch})`)
    return this.view()
  }
}
