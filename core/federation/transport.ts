// core/federation/transport — pool-to-pool HTTP: every request is signed by the calling pool's key over
// (method, path, timestamp, nonce, SHA-256 of the body); the receiver verifies before it parses the body
// and refuses a nonce it has seen within the window (a captured request cannot be replayed). Redirects
// are never followed: a peer's answer comes from the URL we bonded, or it is an error.
import { createHash, randomBytes } from "node:crypto"
import { CelluleError, Conflict, ServiceUnavailable } from "../errors.ts"
import type { Sql } from "../db/client.ts"
import { atomIdOf, verifySig, type Identity } from "./identity.ts"

export const H_ATOM = "x-cellule-fed-atom"
export const H_PUBKEY = "x-cellule-fed-pubkey"
export const H_TS = "x-cellule-fed-ts"
export const H_SIG = "x-cellule-fed-sig"
export const H_NONCE = "x-cellule-fed-nonce"
/** Signed requests older or newer than this are refused (bounds replay of whole requests). */
export const REQUEST_WINDOW_MS = 5 * 60_000

/** Nonces remembered at most (about 20 MB); beyond, signed requests are refused (503) until some expire. */
export const MAX_REMEMBERED_NONCES = 200_000

function requestBytes(method: string, path: string, ts: string, nonce: string, body: Uint8Array): Uint8Array {
  const digest = createHash("sha256").update(body).digest("hex")
  return Buffer.from(`cellule.fed.request.v2\n${method.toUpperCase()}\n${path}\n${ts}\n${nonce}\n${digest}`)
}

function newNonce(): string {
  return randomBytes(16).toString("hex")
}

/**
 * The nonces of verified requests, each kept until its timestamp leaves the window (after which the
 * timestamp check refuses the request anyway). Bounded: when full of unexpired nonces, new requests are
 * refused rather than old nonces forgotten, which would reopen replays.
 */
export class NonceWindow {
  private seen = new Map<string, number>()
  private sincePrune = 0

  constructor(
    private max = MAX_REMEMBERED_NONCES,
    private windowMs = REQUEST_WINDOW_MS,
  ) {}

  get size() {
    return this.seen.size
  }

  /** Record `nonce` of `atom` signed at `ts`; throws request_replayed when it was already used. */
  claim(atom: string, nonce: string, ts: number, now: number) {
    const key = `${atom}/${nonce}`
    if (++this.sincePrune >= 1000 || this.seen.size >= this.max) this.prune(now)
    const until = this.seen.get(key)
    if (until !== undefined && until >= now)
      throw new Conflict("this signed request was already received (replayed)", "request_replayed")
    if (this.seen.size >= this.max)
      throw new ServiceUnavailable(
        "request_nonces_full",
        "too many signed requests within the replay window; retry shortly",
      )
    this.seen.set(key, ts + this.windowMs)
  }

  private prune(now: number) {
    this.sincePrune = 0
    for (const [k, until] of this.seen) if (until < now) this.seen.delete(k)
  }
}

/** This process's memory of nonces, shared by every verifier (gossip, hello, forwarded requests). */
export const requestNonces = new NonceWindow()

export class PeerUnreachable extends CelluleError {
  constructor(url: string, cause: unknown) {
    super(
      "peer_unreachable",
      `cannot reach peer at ${url}: ${(cause as Error)?.message ?? cause}`,
      502,
      "check the peer's POOL_URL is routable from this pool (admin guide §4.5 P1) and its firewall",
      { cause },
    )
  }
}

/** Call a peer with a signed request; returns the parsed JSON or throws the peer's error. */
export async function signedFetch<T = any>(
  self: Identity,
  baseUrl: string,
  path: string,
  opts: {
    method?: string
    body?: unknown
    timeoutMs?: number
    now: number
    withPubkey?: boolean
    /** Aborts the call early (the caller is stopping). */
    signal?: AbortSignal
  },
): Promise<T> {
  const method = opts.method ?? (opts.body === undefined ? "GET" : "POST")
  const body = opts.body === undefined ? new Uint8Array() : Buffer.from(JSON.stringify(opts.body))
  // The receiver verifies the path without its query (peer-guard reads URL.pathname); a query only narrows
  // what a read answers, never what a call does.
  const headers = signedHeaders(self, method, path.split("?")[0], body, opts.now)
  if (opts.withPubkey) headers[H_PUBKEY] = self.pubkey
  if (opts.body !== undefined) headers["content-type"] = "application/json"
  let res: Response
  try {
    res = await fetch(baseUrl.replace(/\/+$/, "") + path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : body,
      redirect: "manual",
      signal: opts.signal
        ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs ?? 10_000)])
        : AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    })
  } catch (e) {
    throw new PeerUnreachable(baseUrl, e)
  }
  if (res.status >= 300 && res.status < 400) throw redirectRefused(baseUrl, res)
  const text = await res.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    throw new CelluleError("peer_bad_response", `peer ${baseUrl} answered ${res.status} with non-JSON`, 502)
  }
  if (!res.ok)
    throw new CelluleError(
      json?.error ?? "peer_error",
      `peer ${baseUrl}: ${json?.message ?? res.status}`,
      res.status >= 500 ? 502 : res.status,
    )
  return json as T
}

/** A pool-to-pool call answered with a redirect: refused, never followed (it could point anywhere). */
export function redirectRefused(url: string, res: Response): CelluleError {
  // A body that already failed (connection reset) rejects its cancel: unhandled, Bun would end the process.
  res.body?.cancel().catch(() => {})
  return new CelluleError(
    "peer_redirected",
    `peer ${url} answered with a redirect (${res.status}); pool-to-pool calls never follow redirects`,
    502,
    "set the peer's POOL_URL to the address that answers directly",
  )
}

export interface SignedCaller {
  atomId: string
  /** Set when the caller presented its own public key (handshake). */
  pubkey?: string
}

/**
 * Check a signed request's headers and signature against `bodyBytes`. `pubkeyOf` returns a known
 * peer's key; an unknown caller is accepted only if it presents a key whose atom_id matches (hello).
 */
/** The signature headers, present and well formed, with a timestamp inside the window; else 401. */
function signatureHeaders(req: Request, now: number) {
  const atom = req.headers.get(H_ATOM)
  const ts = req.headers.get(H_TS)
  const sig = req.headers.get(H_SIG)
  const nonce = req.headers.get(H_NONCE)
  if (!atom || !ts || !sig || !nonce || !/^[0-9a-f]{32}$/.test(nonce) || sig.length > 512)
    throw new CelluleError("request_unsigned", "pool-to-pool requests must be signed (x-cellule-fed-* headers)", 401)
  if (!/^\d{1,16}$/.test(ts) || Math.abs(now - Number(ts)) > REQUEST_WINDOW_MS)
    throw new CelluleError(
      "request_expired",
      "signed request timestamp is outside the 5-minute window (check both clocks)",
      401,
    )
  return { atom, ts, sig, nonce }
}

/**
 * What can be judged from a signed request's head alone, before a byte of its body is read: the
 * signature headers are there and well formed, the timestamp is in the window, and the caller is a
 * pool we are bonded with — or, where `selfPresented` allows it (the bonding hello), presents a key
 * whose hash is its atom id. An unsigned or unknown caller cannot make us buffer its body.
 */
export async function screenRequestHead(
  req: Request,
  now: number,
  bondedKey: (atomId: string) => Promise<string | undefined>,
  selfPresented: boolean,
): Promise<{ via: "bonded" | "self_presented"; pubkey?: string }> {
  const { atom } = signatureHeaders(req, now)
  const pubkey = await bondedKey(atom)
  if (pubkey) return { via: "bonded", pubkey }
  const presented = req.headers.get(H_PUBKEY)
  if (selfPresented && presented && atomIdOf(presented) === atom) return { via: "self_presented" }
  throw new CelluleError("peer_unknown", `atom ${atom.slice(0, 60)} is not bonded with this pool`, 401)
}

export async function verifyRequest(
  req: Request,
  bodyBytes: Uint8Array,
  now: number,
  pubkeyOf: (atomId: string) => Promise<string | undefined>,
  nonces: NonceWindow = requestNonces,
): Promise<SignedCaller> {
  const { atom, ts, sig, nonce } = signatureHeaders(req, now)
  const presented = req.headers.get(H_PUBKEY) ?? undefined
  let pubkey = await pubkeyOf(atom)
  if (!pubkey && presented && atomIdOf(presented) === atom) pubkey = presented
  if (!pubkey) throw new CelluleError("peer_unknown", `atom ${atom.slice(0, 60)} is not bonded with this pool`, 401)
  const path = new URL(req.url).pathname
  if (!verifySig(pubkey, requestBytes(req.method, path, ts, nonce, bodyBytes), sig))
    throw new CelluleError("request_signature_invalid", "pool-to-pool request signature does not verify", 401)
  // Only after the signature: an unverified request must not fill the window with nonces.
  nonces.claim(atom, nonce, Number(ts), now)
  return { atomId: atom, pubkey: presented && pubkey === presented ? presented : undefined }
}

/** Signature headers for a request whose response the caller reads itself (e.g. a forwarded SSE stream). */
export function signedHeaders(
  self: Identity,
  method: string,
  path: string,
  body: Uint8Array,
  now: number,
): Record<string, string> {
  const ts = String(now)
  const nonce = newNonce()
  return {
    [H_ATOM]: self.atomId,
    [H_TS]: ts,
    [H_NONCE]: nonce,
    [H_SIG]: self.sign(requestBytes(method, path, ts, nonce, body)),
  }
}

/** A signed request from a bonded, unrevoked peer at `minTrust` or above; returns its atom id. */
export async function verifyTrustedPeer(
  sql: Sql,
  req: Request,
  bodyBytes: Uint8Array,
  now: number,
  minTrust: number,
): Promise<string> {
  const peer = async (atom: string) => {
    const [p] = await sql<
      { pubkey: string; trust_level: number; revoked_at: Date | null }[]
    >`select pubkey, trust_level, revoked_at from federation_peers where atom_id = ${atom}`
    return p && !p.revoked_at ? p : undefined
  }
  // Only keys we already hold count here: a self-presented key (the bonding handshake) is not enough.
  const caller = await verifyRequest(req, bodyBytes, now, async (atom) => (await peer(atom))?.pubkey)
  const p = await peer(caller.atomId)
  if (!p) throw new CelluleError("peer_unknown", "caller is not bonded with this pool", 401)
  if (p.trust_level < minTrust)
    throw new CelluleError("peer_untrusted", `peer is at trust ${p.trust_level}; forwarding needs ${minTrust}`, 403)
  return caller.atomId
}
