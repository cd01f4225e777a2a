// core/pool/facades — the domain calls the HTTP edge makes, each bound once to the database (and
// clock, config) by the composition root. A route calls `s.setup.read()`; it never holds `sql`.
import type { Config } from "../config/index.ts"
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import {
  addAdmin,
  adminByEmail,
  authenticate,
  createSession,
  deleteSession,
  listAdmins,
  setAdminProjects,
  sessionFor,
} from "../auth/admins.ts"
import type { LicenseState } from "../license/gate.ts"
import { consumeLoginLink, consumeLoginLinkAtPeers, consumeLoginLinkForPeer } from "../auth/login-links.ts"
import type { Federation } from "../federation/index.ts"
import {
  completeSetup,
  isSetupComplete,
  readLogo,
  readProfile,
  readSetup,
  saveStep,
  type StepDeps,
} from "../setup/state.ts"
import { publishSetupSites, type SitePublish } from "../setup/sites.ts"
import { updateBranding, type BrandingChange, type BrandingDeps } from "../setup/branding.ts"
import type { StepId } from "../setup/steps.ts"
import {
  createProvisionCode,
  listWorkerTokens,
  redeemProvisionCode,
  revokeWorkerById,
  revokeWorkerToken,
  workerAudit,
  workerTokenId,
  type WorkerHardware,
  type WorkerOs,
} from "../workers/provisioning.ts"
import { HARDWARE_CLASSES, classAssignments, listStore, modelForClass, storedModel } from "../catalog/store.ts"
import {
  TIERS,
  type Tier,
  catalogueEntry,
  deleteModel,
  entryPayload,
  listCatalogue,
  replicatedEntry,
  tierAssignments,
  uploadModel,
} from "../catalog/catalogue.ts"
import type { CatalogueSync } from "../catalog/sync.ts"
import { modelAssignment, modelEntry } from "../federation/kinds/model-catalogue.ts"
import { BadRequest } from "../errors.ts"
import { CatalogueRole } from "../catalog/master.ts"
import type { HardwareClass } from "../workers/protocol.ts"
import * as peers from "../federation/peers.ts"
import { screenRequestHead, verifyRequest, verifyTrustedPeer } from "../federation/transport.ts"
import * as fedq from "../federation/admin-queries.ts"

export const adminsFacade = (sql: Sql, clock: Clock, peers?: { fed: Federation; minTrust: number }) => ({
  authenticate: (email: string, password: string) => authenticate(sql, email, password),
  createSession: (adminId: number) => createSession(sql, adminId, clock),
  deleteSession: (token: string) => deleteSession(sql, token),
  sessionFor: (token: string) => sessionFor(sql, token, clock),
  byEmail: (email: string) => adminByEmail(sql, email),
  consumeLoginLink: (token: string) => consumeLoginLink(sql, token, clock),
  list: () => listAdmins(sql),
  add: (email: string, password: string, license: LicenseState, projects?: readonly string[] | null) =>
    addAdmin(sql, email, password, license, projects),
  setProjects: (id: number, projects: readonly string[] | null) => setAdminProjects(sql, id, projects),
  /** A link this pool does not hold, spent by the trusted peer that made it; null without federation. */
  consumeLoginLinkAtPeers: async (token: string) =>
    peers ? consumeLoginLinkAtPeers(peers.fed, peers.minTrust, token) : null,
  /** For a trusted peer: spend a link of ours by its hash; its admin's e-mail. */
  consumeLoginLinkForPeer: (tokenHashHex: string) => consumeLoginLinkForPeer(sql, tokenHashHex, clock),
})

export const setupFacade = (sql: Sql, clock: Clock, branding: BrandingDeps = {}) => ({
  read: () => readSetup(sql),
  readProfile: () => readProfile(sql),
  readLogo: () => readLogo(sql),
  isComplete: () => isSetupComplete(sql),
  complete: () => completeSetup(sql, clock),
  saveStep: (step: StepId, input: Record<string, unknown>, deps: StepDeps) => saveStep(sql, step, input, deps),
  publishSites: (publish: (site: SitePublish) => Promise<unknown>) => publishSetupSites(sql, publish),
  /** Company name and logo after setup (the wizard's checks and SVG sanitising), replicated as "branding". */
  updateBranding: (change: BrandingChange) => updateBranding(sql, change, branding),
  /** Whether branding is changed here (master) or on the catalogue master (satellite). */
  brandingRole: async () => (branding.role ? branding.role() : null),
})

export const workersFacade = (sql: Sql, clock: Clock, config: Readonly<Config>) => ({
  createCode: (o: { os: WorkerOs; hardware: WorkerHardware; label?: string }) =>
    createProvisionCode(sql, clock, { ...o, ttlMs: config.provisionCodeTtlMs }),
  redeemCode: (code: string, name: string) => redeemProvisionCode(sql, clock, code, name),
  listTokens: () => listWorkerTokens(sql),
  revokeToken: (id: number) => revokeWorkerToken(sql, clock, id),
  revokeWorkerById: (workerId: string) => revokeWorkerById(sql, clock, workerId),
  audit: (limit?: number) => workerAudit(sql, limit),
  /** The live per-worker token id for a presented token, or null. */
  tokenId: (presented: string) => workerTokenId(sql, presented),
})

export const catalogFacade = (
  sql: Sql,
  config: Readonly<Config>,
  role: CatalogueRole = new CatalogueRole(
    sql,
    { id: () => config.poolName, url: () => config.poolUrl },
    config.catalogueMaster,
  ),
  sync?: () => CatalogueSync | undefined,
) => {
  /** The master's entry for a file, replicated when satellites do not hold it yet (a file copied in by hand). */
  const ensureEntry = async (fileName: string) => {
    const e = await catalogueEntry(sql, config.modelStoreDir, fileName)
    const known = await replicatedEntry(sql, fileName)
    if (!known || known.deleted || known.sha256 !== e.sha256) await role.replicate(modelEntry, entryPayload(e))
  }
  return {
    /** Master / satellite (§4.6.3): every catalogue write below asks it first (409 catalogue_read_only). */
    role,
    modelForClass: (c: HardwareClass) => modelForClass(sql, config.modelStoreDir, c),
    storedModel: (fileName: string) => storedModel(sql, config.modelStoreDir, fileName),
    classAssignments: () => classAssignments(sql),
    listStore: () => listStore(sql, config.modelStoreDir),
    // Writes (master only) are replicated to satellites as the kinds model_entry / model_assignment.
    assignClassModel: async (c: HardwareClass, fileName: string) => {
      await role.requireWriter()
      if (!HARDWARE_CLASSES.includes(c)) throw new BadRequest(`unknown hardware class ${c}`, "hardware_class_invalid")
      await ensureEntry(fileName)
      await role.replicate(modelAssignment, { scope: "class", name: c, file_name: fileName })
    },
    // The administrator's catalogue (issue 18): streamed upload, list, delete, tiers.
    upload: async (fileName: string, body: AsyncIterable<Uint8Array> | null, by?: string) => {
      await role.requireWriter()
      const r = await uploadModel(sql, config.modelStoreDir, fileName, body, {
        maxBytes: config.modelUploadMaxBytes,
        by,
      })
      if (r.created) await role.replicate(modelEntry, entryPayload(r.entry))
      return r
    },
    list: () => listCatalogue(sql, config.modelStoreDir, sync?.()?.copies),
    entry: (fileName: string) => catalogueEntry(sql, config.modelStoreDir, fileName),
    remove: async (fileName: string) => {
      await role.requireWriter()
      const before =
        (await catalogueEntry(sql, config.modelStoreDir, fileName).catch(() => null)) ??
        (await replicatedEntry(sql, fileName))
      await deleteModel(sql, config.modelStoreDir, fileName)
      if (before) await role.replicate(modelEntry, { ...entryPayload(before), deleted: true })
    },
    assignTier: async (tier: string, fileName: string) => {
      await role.requireWriter()
      if (!TIERS.includes(tier as Tier))
        throw new BadRequest(`unknown tier ${tier} (fast, reasoning or code)`, "tier_invalid")
      await ensureEntry(fileName)
      await role.replicate(modelAssignment, { scope: "tier", name: tier, file_name: fileName })
    },
    tierAssignments: () => tierAssignments(sql),
  }
}

/** A bonded, unrevoked peer's public key, or undefined. */
async function livePeerKey(sql: Sql, atomId: string): Promise<string | undefined> {
  const p = await peers.getPeer(sql, atomId)
  return p && !p.revoked_at ? p.pubkey : undefined
}

export const peersFacade = (sql: Sql, clock: Clock, config: Readonly<Config>) => ({
  list: () => peers.listPeers(sql),
  get: (atomId: string) => peers.getPeer(sql, atomId),
  promote: (atomId: string, level: number) => peers.promotePeer(sql, atomId, level),
  revoke: (atomId: string) => peers.revokePeer(sql, atomId, clock),
  unbond: (atomId: string) => peers.unbondPeer(sql, atomId),
  createAttachmentToken: () => peers.createAttachmentToken(sql, clock),
  /** A signed call from a bonded peer (its known key) or a bonding one (the key it presents). */
  /**
   * Judges a signed call on its head before its body is read (core/federation/transport.ts); `verify`
   * then checks the signature over the body with the key the head check already read (one lookup).
   */
  screenHead: async (request: Request, selfPresented: boolean) => {
    const head = await screenRequestHead(request, clock.now(), (atom) => livePeerKey(sql, atom), selfPresented)
    return {
      via: head.via,
      verify: (bytes: Uint8Array) => verifyRequest(request, bytes, clock.now(), async () => head.pubkey),
    }
  },
  /** A signed call from a bonded peer at MIN_TRUST_LEVEL or above; its atom id. */
  verifyTrusted: (request: Request, bytes: Uint8Array) =>
    verifyTrustedPeer(sql, request, bytes, clock.now(), config.minTrustLevel),
  rejects: (limit: number) => fedq.listRejects(sql, limit),
  envelopeLog: (limit: number) => fedq.listEnvelopeLog(sql, limit),
  settings: () => fedq.listClusterSettings(sql),
  setting: (key: string) => fedq.getClusterSetting(sql, key),
  sites: () => fedq.listSites(sql),
  siteHeadcounts: () => fedq.siteHeadcounts(sql),
  projects: () => fedq.listProjects(sql),
})
