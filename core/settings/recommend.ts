// core/settings/recommend — the value recommended for this cluster (§0.5: "a recommendation per profile
// and sector"): the profile follows the declared headcount (a small office up to CABINET_MAX_HEADCOUNT
// people, a company above), then the sector of the setup wizard (core/setup/sectors.ts) adjusts the
// settings where its rules differ, with the reason. Pure: no I/O.
import type { ClusterSettingDef, Profile } from "../config/cluster-settings.ts"
import { isSector, type Sector } from "../setup/sectors.ts"

/** Up to this many declared people the cluster is a small office ("cabinet"). */
export const CABINET_MAX_HEADCOUNT = 50

export interface Recommendation {
  sector: Sector
  profile: Profile
  value: unknown
  /** Why the sector changes the profile's value; absent when it does not. */
  why?: { en: string; fr: string }
}

type Rule = (profileValue: unknown, key: string) => { value: unknown; why: { en: string; fr: string } } | undefined

/** Professional secrecy: every use is traced to a team's key and the audit log names it. */
const SECRECY = {
  en: "professional secrecy: every use of the assistant is traced to a team's key",
  fr: "secret professionnel : chaque usage de l'assistant est rattaché à la clé d'une équipe",
}
/** A strict or ISO 27001 audit grade: an administrator approves each site. */
const STRICT = {
  en: "the sector's strict audit grade: an administrator approves each bonded site",
  fr: "le niveau d'audit strict du secteur : un administrateur approuve chaque site associé",
}
/** Long contracts and case files: a longer context on the machines that can hold it. */
const LONG_DOCS = {
  en: "long contracts and case files: a longer context where the machine can hold it",
  fr: "contrats et dossiers longs : un contexte plus long là où la machine peut le tenir",
}

const off =
  (why: { en: string; fr: string }): Rule =>
  () => ({ value: false, why })

const longerContext: Rule = (v, key) => {
  if (key === "runtime_flags.cpu-mid") return undefined
  const flags = (v ?? {}) as Record<string, unknown>
  return { value: { ...flags, context_size: 16_384 }, why: LONG_DOCS }
}

/** Per sector, the settings whose recommendation differs from the profile's. */
const RULES: Partial<Record<Sector, Record<string, Rule>>> = {
  LAW: {
    "openai.anonymous_access": off(SECRECY),
    "federation.auto_promote": off(STRICT),
    "runtime_flags.gpu-small": longerContext,
    "runtime_flags.gpu-large": longerContext,
    "runtime_flags.apple-m": longerContext,
  },
  HEALTHCARE: {
    "openai.anonymous_access": off({
      en: "medical secrecy: every use is traced to a team's key",
      fr: "secret médical : chaque usage est rattaché à la clé d'une équipe",
    }),
    "federation.auto_promote": off(STRICT),
  },
  ACCOUNTING: {
    "openai.anonymous_access": off(SECRECY),
    "federation.auto_promote": off(STRICT),
  },
  CONSULTING: {
    "openai.anonymous_access": off({
      en: "client confidentiality: usage counted per engagement team",
      fr: "confidentialité des clients : usage compté par équipe de mission",
    }),
    "federation.auto_promote": off(STRICT),
    "runtime_flags.gpu-large": longerContext,
  },
}

export const profileFor = (headcount: number): Profile => (headcount <= CABINET_MAX_HEADCOUNT ? "cabinet" : "corporate")

/** The recommendation for the cluster's sector and size; an unknown sector counts as OTHER. */
export function recommendationFor(def: ClusterSettingDef, sector: string, headcount: number): Recommendation {
  const s: Sector = isSector(sector) ? sector : "OTHER"
  const profile = profileFor(headcount)
  const base = def.recommend[profile]
  const rule = RULES[s]?.[def.key]?.(base, def.key)
  return rule ? { sector: s, profile, value: rule.value, why: rule.why } : { sector: s, profile, value: base }
}
