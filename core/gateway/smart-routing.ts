// core/gateway/smart-routing — `model: "auto"` (admin guide §2.1, licence feature smart_routing §7.4):
// the prompt is embedded on a worker (the RAG embedders, core/rag/embed.ts: the pool never loads a
// model) and compared with one prototype text per tier (fast / reasoning / code); the closest tier
// whose model is live serves. Prototypes are cluster settings ("smart_routing.prototypes.<tier>", with
// built-in defaults) and their embeddings are cached per embedder and text. The tier's model comes from
// modelForTier(): the model catalogue's tier assignment (PUT /v1/admin/models/tiers/<tier>, replicated
// from the catalogue master), served under its file name without ".gguf"; the cluster setting
// "smart_routing.model.<tier>" only fills a tier the catalogue leaves unassigned (a model that is
// not a catalogue file, e.g. a worker started with --model). The catalogue wins when both are set.
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { ServiceUnavailable } from "../errors.ts"
import { logger } from "../log.ts"
import { CounterVec } from "../metrics/prom.ts"
import type { EmbeddingService } from "../rag/embed.ts"
import type { Scheduler } from "../scheduler/scheduler.ts"
import { ClusterSettingsView } from "./guidance.ts"
import { tierAssignments } from "../catalog/catalogue.ts"

const log = logger("smart_routing")

export const TIERS = ["fast", "reasoning", "code"] as const
export type Tier = (typeof TIERS)[number]
export const AUTO_MODEL = "auto"

/** What each tier is for, as example requests; replaced per tier by "smart_routing.prototypes.<tier>". */
export const DEFAULT_PROTOTYPES: Record<Tier, string> = {
  fast:
    "Hello, thanks! Write a short email to my manager. Translate this sentence. Summarize this paragraph. " +
    "Bonjour, merci ! Rédige un court e-mail. Traduis cette phrase. Résume ce texte.",
  reasoning:
    "Analyse the legal and strategic implications step by step, compare the options and justify the best one. " +
    "Analyse les implications juridiques étape par étape, compare les options et justifie la meilleure.",
  code:
    "Write a Python function. Fix this bug in my code: stack trace, compile error, SQL query, regex, unit test, " +
    "TypeScript, Bash script, Dockerfile, API endpoint.",
}

/** The longest prompt text embedded (its start says what it is about). */
const MAX_CHARS = 2000

export interface RouteChoice {
  tier: Tier
  model: string
  scores: Record<Tier, number>
}

export class SmartRouter {
  private readonly view: ClusterSettingsView
  /** Prototype embeddings by embedder model and text: computed once, reused until the text changes. */
  private readonly prototypes = new Map<string, number[]>()
  /** Requests routed by `model: "auto"`, by tier and serving model (GET /metrics). */
  readonly routed = new CounterVec(
    "cellule_smart_routing_total",
    'Chat completions with model "auto", by the tier chosen and the model that served.',
  )

  constructor(
    private readonly sql: Sql,
    clock: Clock,
    private readonly embeddings: EmbeddingService,
    private readonly scheduler: Scheduler,
  ) {
    this.view = new ClusterSettingsView(sql, clock, ["smart_routing."])
  }

  /**
   * The model serving a tier: the catalogue's tier assignment (its file name without ".gguf"), else the
   * cluster setting smart_routing.model.<tier>; null when neither names one.
   */
  async modelForTier(tier: Tier, assigned?: Record<string, string>): Promise<string | null> {
    const file = (assigned ?? (await tierAssignments(this.sql)))[tier]
    if (file) return file.replace(/\.gguf$/i, "")
    const v = (await this.view.values()).get(`smart_routing.model.${tier}`)
    return typeof v === "string" && v.trim() ? v.trim() : null
  }

  /**
   * Whether "auto" is smart-routed: some tier has a model. Otherwise "auto" is left to the MoE profile
   * (Advanced settings, core/scheduler/scheduler.ts), which spreads it across the profile's models.
   */
  async configured(): Promise<boolean> {
    const assigned = await tierAssignments(this.sql)
    for (const tier of TIERS) if (await this.modelForTier(tier, assigned)) return true
    return false
  }

  async prototypeText(tier: Tier): Promise<string> {
    const v = (await this.view.values()).get(`smart_routing.prototypes.${tier}`)
    return typeof v === "string" && v.trim() ? v : DEFAULT_PROTOTYPES[tier]
  }

  /**
   * Picks the tier and model for a prompt; throws 503 smart_routing_unavailable when it cannot.
   * `allowed`: the models the caller may use (an API key restricted to some models); others are skipped.
   */
  async route(prompt: string, allowed?: (model: string) => boolean): Promise<RouteChoice> {
    const embedder = this.embeddings.model()
    if (!embedder)
      throw new ServiceUnavailable(
        "smart_routing_unavailable",
        'model "auto" needs a live worker with an embedder to read the prompt',
        "start a worker with --embedder, or name a model",
      )
    const texts = await Promise.all(TIERS.map((t) => this.prototypeText(t)))
    // the prompt and any prototype not embedded yet, in one job
    const missing = [...new Set(texts.filter((t) => !this.prototypes.has(`${embedder}\n${t}`)))]
    const { vectors } = await this.embeddings.embed(
      embedder,
      [prompt.slice(0, MAX_CHARS) || " ", ...missing],
      "interactive",
    )
    const [query, ...fresh] = vectors
    for (const [i, t] of missing.entries()) this.prototypes.set(`${embedder}\n${t}`, fresh[i]!)
    const scores = Object.fromEntries(
      TIERS.map((tier, i) => [tier, cosine(query!, this.prototypes.get(`${embedder}\n${texts[i]}`)!)]),
    ) as Record<Tier, number>
    const live = new Set(
      this.scheduler
        .liveModels()
        .filter((m) => m.kind === "llm")
        .map((m) => m.id),
    )
    const ranked = [...TIERS].sort((a, b) => scores[b] - scores[a])
    let choice: RouteChoice | undefined
    const assigned = await tierAssignments(this.sql)
    for (const tier of ranked) {
      const model = await this.modelForTier(tier, assigned)
      if (model && live.has(model) && (!allowed || allowed(model))) {
        choice = { tier, model, scores }
        break
      }
    }
    if (!choice)
      throw new ServiceUnavailable(
        "smart_routing_unavailable",
        `no tier has a live model (closest tier: ${ranked[0]})`,
        "assign a model to each tier on the Models page (PUT /v1/admin/models/tiers/<fast|reasoning|code>)",
      )
    this.routed.inc({ tier: choice.tier, model: choice.model })
    const fmt = (t: Tier) => `${t} ${scores[t].toFixed(3)}`
    log.info(
      `auto → ${choice.tier} (${choice.model})${choice.tier !== ranked[0] ? `, closest tier ${ranked[0]} has no live model` : ""}; ${TIERS.map(fmt).join(", ")}`,
    )
    return choice
  }
}

export function cosine(a: number[], b: number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0
}
