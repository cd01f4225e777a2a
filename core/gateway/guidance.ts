// core/gateway/guidance — the built-in model guidance of admin guide §4.9 applied to chat completions:
// SYSTEM_PROMPT (cluster setting "guidance.system_prompt", overridden per model by
// "guidance.system_prompt.<model id>") is put first when the request brings no system message of its
// own, and the answer goes through the <think> strip ("guidance.think_strip", on by default) and the
// numbered-preamble filter ("guidance.preamble_filter", on by default). Settings are the replicated
// cluster_settings rows (PUT /v1/admin/settings/:key), read at most once a second.
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { createAnswerFilter, type TextFilter } from "../inference/preamble.ts"
import type { ChatMessage } from "../workers/protocol.ts"

/** How long settings are read from memory: a change reaches every request within this. */
const CACHE_MS = 1000

/** A cached view of the cluster-wide settings under some prefixes. */
export class ClusterSettingsView {
  private cached: { at: number; values: Map<string, unknown> } | undefined
  private loading: Promise<Map<string, unknown>> | undefined

  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    private readonly prefixes: string[],
  ) {}

  async values(): Promise<Map<string, unknown>> {
    const now = this.clock.now()
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.values
    this.loading ??= (async () => {
      try {
        // jsonb is read as text and parsed here: drivers differ on whether it arrives parsed.
        const rows = await this.sql<
          { key: string; value: string }[]
        >`select key, value::text as value from cluster_settings`
        const values = new Map<string, unknown>(
          rows.filter((r) => this.prefixes.some((p) => r.key.startsWith(p))).map((r) => [r.key, JSON.parse(r.value)]),
        )
        this.cached = { at: this.clock.now(), values }
        return values
      } finally {
        this.loading = undefined
      }
    })()
    return this.loading
  }

  /** Forget the cache (after this pool changed a setting). */
  invalidate() {
    this.cached = undefined
  }
}

export interface GuidanceRules {
  systemPrompt: string
  thinkStrip: boolean
  preambleFilter: boolean
}

export class Guidance {
  private readonly view: ClusterSettingsView

  constructor(sql: Sql, clock: Clock) {
    this.view = new ClusterSettingsView(sql, clock, ["guidance."])
  }

  /** The rules for one model: its own SYSTEM_PROMPT when set (even empty), else the cluster's. */
  async rules(model: string): Promise<GuidanceRules> {
    const v = await this.view.values()
    const own = v.get(`guidance.system_prompt.${model}`)
    const prompt = typeof own === "string" ? own : v.get("guidance.system_prompt")
    return {
      systemPrompt: typeof prompt === "string" ? prompt.trim() : "",
      thinkStrip: v.get("guidance.think_strip") !== false,
      preambleFilter: v.get("guidance.preamble_filter") !== false,
    }
  }

  invalidate() {
    this.view.invalidate()
  }
}

/**
 * SYSTEM_PROMPT first, unless the request already says how to behave (a system message of its own).
 * `clientSystem`: whether the client sent one (a grounded chat adds its own after the client's turn).
 */
export function withSystemPrompt(
  messages: ChatMessage[],
  rules: GuidanceRules,
  clientSystem = messages.some((m) => m.role === "system"),
): ChatMessage[] {
  if (!rules.systemPrompt || clientSystem) return messages
  // one system message: a grounded chat's own (the project's passages) follows SYSTEM_PROMPT in it
  const [first, ...rest] = messages
  if (first?.role === "system")
    return [{ role: "system", content: `${rules.systemPrompt}\n\n${first.content}` }, ...rest]
  return [{ role: "system", content: rules.systemPrompt }, ...messages]
}

/** The filter the answer's text goes through, streamed or whole. */
export function answerFilter(rules: GuidanceRules): () => TextFilter {
  return () => createAnswerFilter({ think: rules.thinkStrip, preamble: rules.preambleFilter })
}
