// core/auth/api-keys — virtual API keys for the OpenAI endpoint: shown once, stored as SHA-256,
// with an optional model allow-list, requests/tokens per minute, a monthly token budget and a
// default priority; and the usage each request consumed. Limits are cluster-wide: each pool keeps its
// own minute windows in memory and adds what its trusted peers report of theirs (key-usage-sync.ts).
import { randomUUID } from "node:crypto"
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { CelluleError, Forbidden, NotFound, TooManyRequests, Unauthorized } from "../errors.ts"
import { hashToken, newToken } from "../crypto/token.ts"
import type { Priority } from "../scheduler/fair-queue.ts"
import { apiKeyReplica, isKeyId, type ApiKeyPayload } from "../federation/kinds/api-key.ts"

export { isKeyId }

export interface ApiKey {
  id: string
  name: string
  project: string | null
  prefix: string
  models: string[] | null
  rpm: number | null
  tpm: number | null
  monthly_token_budget: number | null
  priority: Priority
  created_at: string
  revoked_at: string | null
}

export interface NewKey {
  name: string
  project?: string
  models?: string[]
  rpm?: number
  tpm?: number
  monthly_token_budget?: number
  priority?: Priority
}

const MINUTE = 60_000

/**
 * What one pool tells its peers of a key's use: the last minute in one-second buckets, as ages in ms
 * (so clocks need not agree), and the tokens this pool itself metered this month.
 */
export interface KeyUsageReport {
  month: number
  keys: Record<string, { req: [ageMs: number, n: number][]; tok: [ageMs: number, n: number][]; month_tokens: number }>
}

/** A peer's report as received: ages turned into this pool's timestamps. */
interface PeerUsage {
  month: number
  keys: Map<string, { req: [at: number, n: number][]; tok: [at: number, n: number][]; monthTokens: number }>
}

/** Entries of the last minute, summed into one-second buckets, as [age, n]. */
function buckets(entries: Iterable<[number, number]>, now: number): [number, number][] {
  const by = new Map<number, number>()
  for (const [at, n] of entries)
    if (now - at < MINUTE) by.set(Math.floor(at / 1000), (by.get(Math.floor(at / 1000)) ?? 0) + n)
  return [...by].map(([sec, n]) => [Math.max(0, now - sec * 1000), n])
}

const nonNegInt = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0

function monthStart(ms: number): number {
  const d = new Date(ms)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

export class ApiKeys {
  private cache = new Map<string, { key: ApiKey | null; at: number }>()
  /** Keys being re-read in the background (refresh ahead, see find). */
  private readonly refreshing = new Set<string>()
  /** Bumped by revoke(): a lookup that started before it does not fill the cache. */
  private generation = 0
  private requests = new Map<string, number[]>()
  private tokens = new Map<string, { at: number; n: number }[]>()
  private monthly = new Map<string, { month: number; used: number }>()
  /** The latest report of each trusted peer (by atom id). */
  private peers = new Map<string, PeerUsage>()

  /**
   * `publish` replicates a change cluster-wide (federation kind "api_key": applied here at once,
   * then gossiped); without it, changes stay on this pool.
   */
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    private readonly publish: (kind: string, payload: unknown) => Promise<unknown> = (_k, p) =>
      apiKeyReplica.apply(sql, apiKeyReplica.parse(p), { hlc: new Date(clock.now()).toISOString(), origin: "local" }),
  ) {}

  async create(input: NewKey): Promise<{ key: string; record: ApiKey }> {
    const key = newToken("sk-cel-", 32)
    const payload: ApiKeyPayload = {
      id: randomUUID(),
      name: input.name,
      project: input.project ?? null,
      prefix: key.slice(0, 11),
      key_hash: hashToken(key).toString("hex"),
      models: input.models ?? null,
      rpm: input.rpm ?? null,
      tpm: input.tpm ?? null,
      monthly_token_budget: input.monthly_token_budget ?? null,
      priority: input.priority ?? "interactive",
      revoked: false,
    }
    await this.publish("api_key", payload)
    const [row] = await this.sql`select * from api_keys where id = ${payload.id}`
    return { key, record: toKey(row) }
  }

  async list(): Promise<ApiKey[]> {
    return (await this.sql`select * from api_keys order by created_at`).map(toKey)
  }

  async revoke(id: string) {
    if (!isKeyId(id)) throw new NotFound(`no active API key ${id}`, "api_key_not_found")
    const [r] = await this
      .sql`select *, encode(key_hash, 'hex') as key_hex from api_keys where id = ${id} and revoked_at is null`
    if (!r) throw new NotFound(`no active API key ${id}`, "api_key_not_found")
    const k = toKey(r)
    await this.publish("api_key", { ...k, key_hash: r.key_hex, revoked: true } satisfies ApiKeyPayload)
    this.generation++
    this.cache.clear()
  }

  /** The key behind a presented secret (cached 5 s, so a revocation applies within seconds), or null. */
  async find(presented: string): Promise<ApiKey | null> {
    const h = hashToken(presented).toString("hex")
    const hit = this.cache.get(h)
    // Hits are kept 5 s (revocation applies within seconds); misses 1 s, so a key created on a peer
    // works a second after its envelope lands, and tools that send a dummy key cost no query each time.
    if (hit) {
      const age = this.clock.now() - hit.at
      const ttl = hit.key ? 5000 : 1000
      // Refresh ahead: a key in steady use is re-read in the background during its last second, so
      // its requests never wait on the database; the 5 s bound on a revocation is unchanged.
      if (age < ttl) {
        if (hit.key && age >= ttl - 1000 && !this.refreshing.has(h)) {
          this.refreshing.add(h)
          void this.lookup(h)
            .catch(() => {})
            .finally(() => this.refreshing.delete(h))
        }
        return hit.key
      }
    }
    return this.lookup(h)
  }

  private lookup = async (h: string): Promise<ApiKey | null> => {
    // A revocation during the query (revoke() bumps the generation) must not be undone by its answer.
    const generation = this.generation
    const at = this.clock.now()
    const [row] = await this
      .sql`select * from api_keys where key_hash = ${Buffer.from(h, "hex")} and revoked_at is null`
    const key = row ? toKey(row) : null
    if (generation !== this.generation) return key
    if (this.cache.size > 10_000) this.cache.clear()
    this.cache.set(h, { key, at })
    return key
  }

  /** An active key by id (a peer forwarding a request names the key it admitted). */
  async byId(id: string): Promise<ApiKey | null> {
    if (!isKeyId(id)) return null
    const [row] = await this.sql`select * from api_keys where id = ${id} and revoked_at is null`
    return row ? toKey(row) : null
  }

  /** Refuse the request if the key may not use this model or is over a limit, counting every pool's use. */
  async admit(key: ApiKey, model: string) {
    if (key.models && !key.models.includes(model))
      throw new Forbidden(`this API key may not use model "${model}"`, "model_not_allowed")
    const now = this.clock.now()
    const retryAfter = (entries: [number, number][]) =>
      Math.max(1, Math.ceil((Math.min(...entries.map(([at]) => at)) + MINUTE - now) / 1000))
    if (key.rpm) {
      const times = (this.requests.get(key.id) ?? []).filter((t) => now - t < MINUTE)
      const all = [...times.map((t): [number, number] => [t, 1]), ...this.peerEntries(key.id, "req", now)]
      if (all.reduce((n, [, c]) => n + c, 0) >= key.rpm)
        throw new TooManyRequests(
          "rate_limited",
          `this API key is limited to ${key.rpm} requests per minute`,
          retryAfter(all),
        )
      times.push(now)
      this.requests.set(key.id, times)
    }
    if (key.tpm) {
      const all = [
        ...(this.tokens.get(key.id) ?? []).filter((u) => now - u.at < MINUTE).map((u): [number, number] => [u.at, u.n]),
        ...this.peerEntries(key.id, "tok", now),
      ]
      if (all.reduce((n, [, c]) => n + c, 0) >= key.tpm)
        throw new TooManyRequests(
          "token_rate_limited",
          `this API key is limited to ${key.tpm} tokens per minute`,
          retryAfter(all),
        )
    }
    if (key.monthly_token_budget) {
      const month = monthStart(now)
      let used = await this.monthToDate(key.id)
      for (const p of this.peers.values()) if (p.month === month) used += p.keys.get(key.id)?.monthTokens ?? 0
      if (used >= key.monthly_token_budget)
        throw new CelluleError(
          "budget_exhausted",
          `this API key has used its monthly budget of ${key.monthly_token_budget} tokens`,
          429,
        )
    }
  }

  private peerEntries(keyId: string, which: "req" | "tok", now: number): [number, number][] {
    const out: [number, number][] = []
    for (const p of this.peers.values())
      for (const e of p.keys.get(keyId)?.[which] ?? []) if (now - e[0] < MINUTE) out.push(e)
    return out
  }

  /** This pool's own use of each key, for its peers: only what this pool admitted and metered. */
  async report(): Promise<KeyUsageReport> {
    const now = this.clock.now()
    const month = monthStart(now)
    // Month totals are kept for budgeted keys, loaded once per key and month.
    const budgeted = await this.sql<
      { id: string }[]
    >`select id from api_keys where monthly_token_budget is not null and revoked_at is null`
    for (const { id } of budgeted) await this.monthToDate(id)
    const ids = new Set([...this.requests.keys(), ...this.tokens.keys(), ...budgeted.map((b) => b.id)])
    const keys: KeyUsageReport["keys"] = {}
    for (const id of ids) {
      const req = buckets(
        (this.requests.get(id) ?? []).map((t): [number, number] => [t, 1]),
        now,
      )
      const tok = buckets(
        (this.tokens.get(id) ?? []).map((u): [number, number] => [u.at, u.n]),
        now,
      )
      const m = this.monthly.get(id)
      const monthTokens = m && m.month === month ? m.used : 0
      if (req.length || tok.length || monthTokens) keys[id] = { req, tok, month_tokens: monthTokens }
    }
    return { month, keys }
  }

  /** Drop the reports of pools no longer trusted (revoked, unbonded, demoted): their use stops counting. */
  keepPeers(atomIds: Iterable<string>) {
    const keep = new Set(atomIds)
    for (const id of this.peers.keys()) if (!keep.has(id)) this.peers.delete(id)
  }

  /** Take in a trusted peer's report (replaces its previous one). Malformed entries are dropped. */
  peerReport(atomId: string, r: KeyUsageReport) {
    const now = this.clock.now()
    const pairs = (xs: unknown): [number, number][] =>
      Array.isArray(xs)
        ? xs
            .filter((e): e is [number, number] => Array.isArray(e) && nonNegInt(e[0]) && nonNegInt(e[1]))
            .map(([age, n]) => [now - age, n])
        : []
    const keys: PeerUsage["keys"] = new Map()
    for (const [id, k] of Object.entries(r?.keys ?? {}).slice(0, 100_000)) {
      if (!k || typeof k !== "object") continue
      keys.set(id, {
        req: pairs(k.req),
        tok: pairs(k.tok),
        monthTokens: nonNegInt(k.month_tokens) ? k.month_tokens : 0,
      })
    }
    this.peers.set(atomId, { month: Number(r?.month) || 0, keys })
  }

  private async monthToDate(keyId: string): Promise<number> {
    const month = monthStart(this.clock.now())
    const m = this.monthly.get(keyId)
    if (m && m.month === month) return m.used
    const [{ n }] = await this.sql`select coalesce(sum(prompt_tokens + completion_tokens), 0)::bigint as n
      from api_usage where key_id = ${keyId} and created_at >= ${new Date(month)}`
    this.monthly.set(keyId, { month, used: Number(n) })
    return Number(n)
  }

  /** Record what a finished request consumed (fire-and-forget from the request's point of view). */
  async record(u: {
    keyId: string | null
    model: string
    promptTokens: number
    completionTokens: number
    latencyMs: number
    workerId?: string
    poolName: string
  }) {
    const total = u.promptTokens + u.completionTokens
    if (u.keyId) {
      const list = this.tokens.get(u.keyId) ?? []
      list.push({ at: this.clock.now(), n: total })
      this.tokens.set(
        u.keyId,
        list.filter((x) => this.clock.now() - x.at < MINUTE),
      )
      const m = this.monthly.get(u.keyId)
      if (m && m.month === monthStart(this.clock.now())) m.used += total
    }
    await this
      .sql`insert into api_usage (key_id, model, prompt_tokens, completion_tokens, latency_ms, worker_id, pool_name)
      values (${u.keyId}, ${u.model}, ${u.promptTokens}, ${u.completionTokens}, ${Math.round(u.latencyMs)}, ${u.workerId ?? null}, ${u.poolName})`
  }

  /** Daily totals per key over the last `days` days (for the dashboard chart and the API). */
  async usage(days = 30, keyId?: string) {
    const since = new Date(this.clock.now() - days * 86_400_000)
    return this.sql`select date_trunc('day', u.created_at) as day, u.key_id, k.name,
        count(*)::int as requests, sum(u.prompt_tokens)::int as prompt_tokens,
        sum(u.completion_tokens)::int as completion_tokens, round(avg(u.latency_ms))::int as avg_latency_ms
      from api_usage u left join api_keys k on k.id = u.key_id
      where u.created_at >= ${since} ${keyId ? this.sql`and u.key_id = ${keyId}` : this.sql``}
      group by 1, 2, 3 order by 1, 3`
  }
}

function toKey(r: Record<string, unknown>): ApiKey {
  return {
    id: String(r.id),
    name: String(r.name),
    project: (r.project as string) ?? null,
    prefix: String(r.prefix),
    models: (r.models as string[]) ?? null,
    rpm: (r.rpm as number) ?? null,
    tpm: (r.tpm as number) ?? null,
    monthly_token_budget: r.monthly_token_budget == null ? null : Number(r.monthly_token_budget),
    priority: r.priority as Priority,
    created_at: new Date(r.created_at as string).toISOString(),
    revoked_at: r.revoked_at ? new Date(r.revoked_at as string).toISOString() : null,
  }
}

export class InvalidApiKey extends Unauthorized {
  constructor() {
    super("invalid or revoked API key", "invalid_api_key")
  }
}
