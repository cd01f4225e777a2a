// The §1.6 sector table and the rule that applies it: defaults fill only what the admin left empty.
import { describe, expect, test } from "bun:test"
import { applySectorDefaults, SECTOR_DEFAULTS, SECTORS } from "../../../core/setup/sectors.ts"

describe("sector defaults", () => {
  test("the table matches the guide, CONSULTING and OTHER included", () => {
    expect(SECTORS).toEqual(["LAW", "HEALTHCARE", "ACCOUNTING", "ARCHITECTURE", "DESIGN", "CONSULTING", "OTHER"])
    expect(SECTOR_DEFAULTS.LAW).toEqual({ retention_months: 120, audit_grade: "strict", template: "Client matter:" })
    expect(SECTOR_DEFAULTS.HEALTHCARE).toEqual({ retention_months: 240, audit_grade: "iso27001", template: "Patient:" })
    expect(SECTOR_DEFAULTS.ACCOUNTING).toEqual({
      retention_months: 120,
      audit_grade: "strict",
      template: "Accounting file:",
    })
    expect(SECTOR_DEFAULTS.ARCHITECTURE).toEqual({ retention_months: 60, audit_grade: "basic", template: "Project:" })
    expect(SECTOR_DEFAULTS.DESIGN).toEqual({
      retention_months: 24,
      audit_grade: "basic",
      template: "Client deliverable:",
    })
    expect(SECTOR_DEFAULTS.CONSULTING).toEqual({ retention_months: 60, audit_grade: "strict", template: "Engagement:" })
    expect(SECTOR_DEFAULTS.OTHER).toEqual({ retention_months: 12, audit_grade: "basic", template: "" })
  })

  test.each([
    [
      "LAW, nothing chosen",
      "LAW",
      {},
      120,
      { retention_months: 120, audit_grade: "strict", template: "Client matter:" },
    ],
    [
      "LAW, retention 12 chosen",
      "LAW",
      { retention_months: 12 },
      12,
      { audit_grade: "strict", template: "Client matter:" },
    ],
    [
      "HEALTHCARE, unlimited chosen",
      "HEALTHCARE",
      { retention_months: "unlimited" },
      "unlimited",
      { audit_grade: "iso27001", template: "Patient:" },
    ],
    ["OTHER, everything chosen", "OTHER", { retention_months: 6, audit_grade: "strict", template: "Dossier:" }, 6, {}],
    [
      "DESIGN, empty template chosen explicitly",
      "DESIGN",
      { template: "" },
      24,
      { retention_months: 24, audit_grade: "basic" },
    ],
  ] as const)("%s", (_n, sector, choices, retention, applied) => {
    const p = applySectorDefaults(sector, choices)
    expect(p.retention_months).toBe(retention)
    expect(p.applied).toEqual(applied)
    for (const k of Object.keys(applied)) expect(p.source[k as keyof typeof p.source]).toBe("sector_default")
  })
})
