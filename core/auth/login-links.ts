// core/auth/login-links — one-time dashboard login links (`npm start` prints one instead of a default
// password): a random token stored hashed, valid once, for a short time. A link works on whichever
// bonded pool receives it (a browser behind the entry lands on its sticky pool, not necessarily the
// one that made the link): that pool asks its trusted peers, over signed calls, to spend the link, and
// the pool that holds it spends it atomically and answers the administrator's e-mail.
import { randomBytes } from "node:crypto"
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { NotFound } from "../errors.ts"
import { hashToken } from "../crypto/token.ts"
import { trustedPeers } from "../federation/peers.ts"
import { signedFetch } from "../federation/transport.ts"
import type { Federation } from "../federation/index.ts"
import { logger } from "../log.ts"

const log = logger("auth.login-links")

export const LOGIN_LINK_TTL_MS = 24 * 3600_000
export const LOGIN_LINK_PATH = "/auth/once/"
/** Served to trusted peers only (signature and trust checked by core/http/peer-guard.ts first). */
export const PEER_CONSUME_PATH = "/v1/federation/login-links/consume"
/** How long a pool waits for its peers when a link is not its own. */
export const PEER_CONSUME_TIMEOUT_MS = 3000

/** What createLoginLink hands out: 32 random bytes, base64url. Anything else is not worth a peer's time. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/

export async function createLoginLink(
  sql: Sql,
  adminId: number,
  clock: Clock,
  ttlMs = LOGIN_LINK_TTL_MS,
): Promise<string> {
  const token = randomBytes(32).toString("base64url")
  await sql`insert into admin_login_links (token_hash, admin_id, expires_at) values (${hashToken(token)}, ${adminId}, ${new Date(clock.now() + ttlMs)})`
  return token
}

/** The admin id when the token is valid and unused (it is then spent), else null. */
export async function consumeLoginLink(sql: Sql, token: string, clock: Clock): Promise<number | null> {
  if (!token || token.length > 128) return null
  const [row] = await sql`update admin_login_links set used_at = ${new Date(clock.now())}
                          where token_hash = ${hashToken(token)} and used_at is null and expires_at > ${new Date(clock.now())}
                          returning admin_id`
  return row ? Number(row.admin_id) : null
}

/**
 * For a trusted peer: spend the link whose SHA-256 is `tokenHashHex` and return its admin's e-mail;
 * 404 login_link_invalid when it is unknown, spent or expired. One UPDATE with `used_at is null` in its
 * WHERE: of two racing callers (local or peers), Postgres lets exactly one see the row unspent.
 */
export async function consumeLoginLinkForPeer(sql: Sql, tokenHashHex: string, clock: Clock): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(tokenHashHex)) throw new NotFound("no such login link", "login_link_invalid")
  const now = new Date(clock.now())
  const [row] = await sql.begin(
    (tx) => tx`update admin_login_links l set used_at = ${now}
               from admin_users a
               where a.id = l.admin_id and l.token_hash = ${Buffer.from(tokenHashHex, "hex")}
                 and l.used_at is null and l.expires_at > ${now}
               returning a.email`,
  )
  if (!row) throw new NotFound("this login link is unknown, expired or already used", "login_link_invalid")
  return String(row.email)
}

/** A link another pool made and spent for us: whose it was, and which pool. */
export interface PeerLogin {
  email: string
  pool: string
}

/**
 * A link this pool does not hold: ask every trusted peer at once to spend it (the token's hash
 * travels, never the token). At most one pool holds a given link, so at most one answers with an
 * e-mail; the others answer 404. Null when no peer spent it (or none answered in time).
 */
export async function consumeLoginLinkAtPeers(
  fed: Federation,
  minTrust: number,
  token: string,
  timeoutMs = PEER_CONSUME_TIMEOUT_MS,
): Promise<PeerLogin | null> {
  if (!TOKEN_SHAPE.test(token)) return null
  const peers = await trustedPeers(fed.sql, minTrust)
  if (!peers.length) return null
  const body = { token_hash: hashToken(token).toString("hex") }
  const ask = async (p: (typeof peers)[number]): Promise<PeerLogin | null> => {
    try {
      const r = await signedFetch<{ email: string }>(fed.identity, p.url, PEER_CONSUME_PATH, {
        body,
        now: fed.clock.now(),
        timeoutMs,
      })
      return typeof r.email === "string" ? { email: r.email, pool: p.pool_name ?? p.url } : null
    } catch (e) {
      if ((e as { code?: string }).code !== "login_link_invalid")
        log.warn(`login link: peer ${p.pool_name ?? p.url} could not be asked: ${(e as Error).message}`)
      return null
    }
  }
  // The first e-mail wins at once: a slow or dead peer does not hold up a link another pool spent.
  return new Promise((resolve) => {
    let left = peers.length
    for (const p of peers)
      void ask(p).then((a) => {
        if (a) resolve(a)
        else if (--left === 0) resolve(null)
      })
  })
}
