// core/setup/sectors — the guide's §1.6 table of sector defaults and the rule that applies them:
// a default fills only a field the admin left empty; an explicit choice always wins.

export const SECTORS = ["LAW", "HEALTHCARE", "ACCOUNTING", "ARCHITECTURE", "DESIGN", "CONSULTING", "OTHER"] as const
export type Sector = (typeof SECTORS)[number]
export type AuditGrade = "basic" | "strict" | "iso27001"

export interface SectorDefaults {
  /** Minimum audit retention in months. */
  retention_months: number
  audit_grade: AuditGrade
  /** Prefix suggested for request descriptions ("Client matter: …"). */
  template: string
}

export const SECTOR_DEFAULTS: Readonly<Record<Sector, SectorDefaults>> = {
  LAW: { retention_months: 120, audit_grade: "strict", template: "Client matter:" },
  HEALTHCARE: { retention_months: 240, audit_grade: "iso27001", template: "Patient:" },
  ACCOUNTING: { retention_months: 120, audit_grade: "strict", template: "Accounting file:" },
  ARCHITECTURE: { retention_months: 60, audit_grade: "basic", template: "Project:" },
  DESIGN: { retention_months: 24, audit_grade: "basic", template: "Client deliverable:" },
  CONSULTING: { retention_months: 60, audit_grade: "strict", template: "Engagement:" },
  OTHER: { retention_months: 12, audit_grade: "basic", template: "" },
}

export const isSector = (s: unknown): s is Sector => typeof s === "string" && (SECTORS as readonly string[]).includes(s)

/** What the admin chose; null/undefined means "left empty" (unlimited retention is an explicit choice). */
export interface PolicyChoices {
  retention_months?: number | "unlimited" | null
  audit_grade?: AuditGrade | null
  template?: string | null
}

export interface AppliedPolicy {
  retention_months: number | "unlimited"
  audit_grade: AuditGrade
  template: string
  /** Per field: "explicit" (the admin's choice) or "sector_default". */
  source: Record<"retention_months" | "audit_grade" | "template", "explicit" | "sector_default">
  /** Only the fields the defaults filled, with their values (stored as sector_defaults_applied). */
  applied: Partial<Record<"retention_months" | "audit_grade" | "template", number | string>>
  sector: Sector
}

export function applySectorDefaults(sector: Sector, choices: PolicyChoices): AppliedPolicy {
  const d = SECTOR_DEFAULTS[sector]
  const source = {} as AppliedPolicy["source"]
  const applied: AppliedPolicy["applied"] = {}
  const pick = <K extends keyof AppliedPolicy["source"]>(k: K, chosen: unknown, dflt: number | string) => {
    if (chosen !== null && chosen !== undefined) {
      source[k] = "explicit"
      return chosen
    }
    source[k] = "sector_default"
    applied[k] = dflt
    return dflt
  }
  return {
    retention_months: pick("retention_months", choices.retention_months, d.retention_months) as number | "unlimited",
    audit_grade: pick("audit_grade", choices.audit_grade, d.audit_grade) as AuditGrade,
    template: pick("template", choices.template, d.template) as string,
    source,
    applied,
    sector,
  }
}
