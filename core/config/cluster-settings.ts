// core/config/cluster-settings — the settings an administrator changes in the dashboard (Advanced
// settings, §0.5): what each one means, its type and bounds, its default, the value recommended per
// deployment profile, and the environment variable that overrides it. Pure: validation only, no I/O.
// Their values are replicated between bonded pools (federation kind "setting", last writer wins by HLC).
import { BadRequest } from "../errors.ts"

export type Category = "access" | "federation" | "workers" | "routing"
export type Profile = "cabinet" | "corporate"
export const HARDWARE_CLASSES = ["cpu-mid", "gpu-small", "gpu-large", "apple-m"] as const
export type HardwareClassName = (typeof HARDWARE_CLASSES)[number]

/** The llama.cpp runtime flags a pool pushes to its workers, per hardware class. Unset: the worker's own. */
export interface RuntimeFlags {
  context_size?: number
  threads?: number
  batch_size?: number
  /** Parallel sequences: requests one model runs at once on a worker (its slots). */
  parallel?: number
  flash_attention?: boolean
  kv_cache_type?: "f16" | "q8_0" | "q4_0"
}

/** The model name a client sends to let the MoE profile choose (`"model": "auto"`). */
export const MOE_MODEL = "auto"

/**
 * The MoE profile (§0.1): the tiers (models) a pool serves to `"model": "auto"` and how requests are
 * spread across them. No experts: every live chat model is one.
 */
export interface MoeProfile {
  experts: { model: string; weight: number }[]
  /** weighted: at random in proportion to the weights; least_loaded: the expert with the most free slots. */
  spread: "weighted" | "least_loaded"
}

export interface ClusterSettingDef {
  key: string
  category: Category
  type: "boolean" | "object"
  default: unknown
  /** Whether a change needs a restart (none of these do: they are read live). */
  restart: boolean
  doc: { en: string; fr: string }
  /** The value recommended for a small office (cabinet) and a larger company (corporate). */
  recommend: Record<Profile, unknown>
  /** The configuration key (core/config/settings.ts) whose environment variable forces the value. */
  env?: string
  /** The value, normalised, or a SettingInvalid naming what is wrong. */
  validate(v: unknown): unknown
}

/** 400 `setting_invalid`: the message is the reason shown next to the field. */
export class SettingInvalid extends BadRequest {
  constructor(reason: string) {
    super(reason, "setting_invalid")
  }
}

const typeOf = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v)

function boolean(v: unknown): boolean {
  if (typeof v !== "boolean") throw new SettingInvalid(`takes true or false, got ${typeOf(v)}`)
  return v
}

function object(v: unknown): Record<string, unknown> {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new SettingInvalid(`takes a JSON object, got ${typeOf(v)}`)
  return v as Record<string, unknown>
}

function int(o: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = o[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new SettingInvalid(`${field} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`)
  return v
}

function onlyFields(o: Record<string, unknown>, allowed: readonly string[]) {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k))
  if (extra.length) throw new SettingInvalid(`unknown field ${extra[0]} (allowed: ${allowed.join(", ")})`)
}

const FLAG_FIELDS = ["context_size", "threads", "batch_size", "parallel", "flash_attention", "kv_cache_type"] as const
const KV_TYPES = ["f16", "q8_0", "q4_0"] as const

export function parseRuntimeFlags(v: unknown): RuntimeFlags {
  const o = object(v)
  onlyFields(o, FLAG_FIELDS)
  const out: RuntimeFlags = {}
  const set = <K extends keyof RuntimeFlags>(k: K, x: RuntimeFlags[K] | undefined) => {
    if (x !== undefined) out[k] = x
  }
  set("context_size", int(o, "context_size", 256, 1_048_576))
  set("threads", int(o, "threads", 1, 256))
  set("batch_size", int(o, "batch_size", 32, 65_536))
  set("parallel", int(o, "parallel", 1, 64))
  if (o.flash_attention !== undefined && o.flash_attention !== null) {
    if (typeof o.flash_attention !== "boolean")
      throw new SettingInvalid(`flash_attention must be true or false, got ${JSON.stringify(o.flash_attention)}`)
    out.flash_attention = o.flash_attention
  }
  if (o.kv_cache_type !== undefined && o.kv_cache_type !== null) {
    if (!KV_TYPES.includes(o.kv_cache_type as (typeof KV_TYPES)[number]))
      throw new SettingInvalid(
        `kv_cache_type must be one of ${KV_TYPES.join(", ")}, got ${JSON.stringify(o.kv_cache_type)}`,
      )
    out.kv_cache_type = o.kv_cache_type as RuntimeFlags["kv_cache_type"]
  }
  // llama.cpp quantises the V cache only with flash attention: refuse what the worker could not load.
  if (out.kv_cache_type && out.kv_cache_type !== "f16" && out.flash_attention !== true)
    throw new SettingInvalid(`kv_cache_type ${out.kv_cache_type} needs flash_attention: true`)
  if (
    out.batch_size !== undefined &&
    out.context_size !== undefined &&
    out.batch_size > out.context_size * (out.parallel ?? 1)
  )
    throw new SettingInvalid("batch_size must not exceed context_size × parallel")
  return out
}

export function parseMoeProfile(v: unknown): MoeProfile {
  const o = object(v)
  onlyFields(o, ["experts", "spread"])
  const spread = o.spread ?? "weighted"
  if (spread !== "weighted" && spread !== "least_loaded")
    throw new SettingInvalid(`spread must be weighted or least_loaded, got ${JSON.stringify(spread)}`)
  const raw = o.experts ?? []
  if (!Array.isArray(raw)) throw new SettingInvalid("experts must be a list of {model, weight}")
  if (raw.length > 32) throw new SettingInvalid("at most 32 experts")
  const seen = new Set<string>()
  const experts = raw.map((e, i) => {
    const x = object(e)
    onlyFields(x, ["model", "weight"])
    if (typeof x.model !== "string" || !/^[\w.:/-]{1,128}$/.test(x.model) || x.model === MOE_MODEL)
      throw new SettingInvalid(`experts[${i}].model must be a served model id, got ${JSON.stringify(x.model)}`)
    if (seen.has(x.model)) throw new SettingInvalid(`experts[${i}].model ${x.model} is listed twice`)
    seen.add(x.model)
    const weight = int(x, "weight", 0, 100) ?? 1
    return { model: x.model, weight }
  })
  if (experts.length && experts.every((e) => e.weight === 0))
    throw new SettingInvalid("at least one expert needs a weight above 0")
  return { experts, spread }
}

const runtimeFlagsDef = (cls: HardwareClassName): ClusterSettingDef => ({
  key: `runtime_flags.${cls}`,
  category: "workers",
  type: "object",
  default: {},
  restart: false,
  doc: {
    en: `How the workers of class ${cls} run their models: context size (tokens one request may hold), threads, batch size, parallel requests per model, flash attention and the memory format of the context cache. Workers apply a change when their running requests are done; requests arriving meanwhile wait, none is lost. Empty: each worker keeps its own settings.`,
    fr: `Comment les postes de classe ${cls} font tourner leurs modèles : taille de contexte (tokens qu'une requête peut contenir), threads, taille de lot, requêtes parallèles par modèle, flash attention et format mémoire du cache de contexte. Les postes appliquent un changement quand leurs requêtes en cours sont terminées ; celles qui arrivent entre-temps attendent, aucune n'est perdue. Vide : chaque poste garde ses propres réglages.`,
  },
  recommend: {
    cabinet: cls === "cpu-mid" ? { context_size: 4096, parallel: 2 } : { context_size: 8192, parallel: 4 },
    corporate:
      cls === "cpu-mid"
        ? { context_size: 4096, parallel: 1 }
        : { context_size: 8192, parallel: 8, flash_attention: true, kv_cache_type: "q8_0" },
  },
  validate: parseRuntimeFlags,
})

/** Every setting of the Advanced settings page that an administrator may change, in display order. */
export const CLUSTER_SETTINGS: readonly ClusterSettingDef[] = [
  {
    key: "openai.anonymous_access",
    category: "access",
    type: "boolean",
    default: false,
    restart: false,
    env: "anonymousAccess",
    doc: {
      en: "Whether people on the network may use the assistant without an API key. Off: every application needs a key, so usage is counted per team.",
      fr: "Si les personnes du réseau peuvent utiliser l'assistant sans clé d'API. Désactivé : chaque application a besoin d'une clé, l'usage est compté par équipe.",
    },
    recommend: { cabinet: true, corporate: false },
    validate: boolean,
  },
  {
    key: "federation.auto_promote",
    category: "federation",
    type: "boolean",
    default: false,
    restart: false,
    doc: {
      en: "Whether a bonded site that stays reachable and well-behaved for a day is trusted automatically. Off: an administrator promotes each site by hand.",
      fr: "Si un site associé qui reste joignable et correct pendant une journée devient de confiance automatiquement. Désactivé : un administrateur promeut chaque site à la main.",
    },
    recommend: { cabinet: true, corporate: false },
    validate: boolean,
  },
  {
    key: "workers.auto_latency_routing",
    category: "routing",
    type: "boolean",
    default: false,
    restart: false,
    env: "workersAutoLatencyRouting",
    doc: {
      en: "Latency routing (§4.8): a workstation enrolled on one pool is moved, once, to the pool of its own site (same /24 network, or the pool it measures closest). Turn on for a stable multi-site cluster whose workstations all join through one address.",
      fr: "Routage par latence (§4.8) : un poste enrôlé sur un pool est déplacé, une fois, vers le pool de son propre site (même réseau /24, ou le pool qu'il mesure le plus proche). À activer pour un cluster multi-sites stable dont tous les postes s'enrôlent par une seule adresse.",
    },
    recommend: { cabinet: false, corporate: true },
    validate: boolean,
  },
  {
    key: "moe.profile",
    category: "routing",
    type: "object",
    default: { experts: [], spread: "least_loaded" },
    restart: false,
    doc: {
      en: 'The MoE profile: which models answer requests that ask for "auto", and how requests are spread across them (weighted: in proportion to each weight; least_loaded: the least busy). No experts: every chat model served.',
      fr: "Le profil MoE : quels modèles répondent aux requêtes qui demandent « auto », et comment les requêtes sont réparties entre eux (weighted : selon le poids de chacun ; least_loaded : le moins occupé). Aucun expert : tous les modèles de chat servis.",
    },
    recommend: {
      cabinet: { experts: [], spread: "least_loaded" },
      corporate: {
        experts: [
          { model: "<small model>", weight: 3 },
          { model: "<large model>", weight: 1 },
        ],
        spread: "weighted",
      },
    },
    validate: parseMoeProfile,
  },
  ...HARDWARE_CLASSES.map(runtimeFlagsDef),
]

const BY_KEY = new Map(CLUSTER_SETTINGS.map((d) => [d.key, d]))

export function clusterSettingDef(key: string): ClusterSettingDef | undefined {
  return BY_KEY.get(key)
}
