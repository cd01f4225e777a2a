// Per-step validation shared by the wizard, the JSON API and `cellule setup`.
import { describe, expect, test } from "bun:test"
import {
  missingSteps,
  validateAdmin,
  validateHardware,
  validateIdentity,
  validateLicenseChoice,
  validateModels,
  validateSecurity,
  validateTopology,
} from "../../../core/setup/steps.ts"

const errorsOf = (r: { ok: boolean; errors?: Record<string, string> }) => (r.ok ? {} : r.errors)

describe("step validation", () => {
  test.each([
    ["identity: empty", () => validateIdentity({}), { company: "required", sector: "required" }],
    [
      "identity: unknown sector",
      () => validateIdentity({ company: "A", sector: "BAKERY" }),
      { sector: "invalid_choice" },
    ],
    [
      "identity: too long",
      () => validateIdentity({ company: "x".repeat(121), sector: "LAW" }),
      { company: "too_long" },
    ],
    ["topology: no site", () => validateTopology({ sites: [] }), { sites: "at_least_one_site" }],
    [
      "topology: blank rows only",
      () => validateTopology({ site_name: ["", ""], site_headcount: ["", ""] }),
      { sites: "at_least_one_site" },
    ],
    [
      "topology: duplicate, bad count",
      () => validateTopology({ site_name: ["HQ", "hq"], site_headcount: ["1", "x"] }),
      { "site_name.1": "duplicate", "site_headcount.1": "not_a_count" },
    ],
    [
      "hardware: bad count and URL",
      () => validateHardware({ gpu_servers: "-1", provisioning_hub_url: "javascript:alert(1)" }),
      { gpu_servers: "not_a_count", provisioning_hub_url: "invalid_url" },
    ],
    ["models: none", () => validateModels({}), { tiers: "at_least_one_tier" }],
    ["models: unknown", () => validateModels({ tiers: ["fast", "huge"] }), { tiers: "invalid_choice" }],
    ["security: 7 months", () => validateSecurity({ retention_months: 7 }), { retention_months: "invalid_choice" }],
    [
      "admin: bad e-mail, 11 chars, mismatch",
      () => validateAdmin({ email: "x", password: "12345678901", password_confirm: "y" }),
      { email: "invalid_email", password: "password_too_short", password_confirm: "password_mismatch" },
    ],
    ["license: token mode without token", () => validateLicenseChoice({ mode: "token" }), { token: "required" }],
  ])("%s", (_n, run, errors) => {
    expect(errorsOf(run())).toEqual(errors)
  })

  test("valid inputs are normalised", () => {
    expect(validateIdentity({ company: "  Dupont   & Co ", sector: "law" })).toEqual({
      ok: true,
      value: { company: "Dupont & Co", sector: "LAW" },
    })
    expect(validateTopology({ site_name: ["Paris", ""], site_headcount: ["40", ""] })).toEqual({
      ok: true,
      value: { sites: [{ name: "Paris", headcount: 40 }] },
    })
    expect(validateSecurity({ retention_months: "" })).toEqual({ ok: true, value: { retention_months: null } })
    expect(validateSecurity({ retention_months: "unlimited" })).toEqual({
      ok: true,
      value: { retention_months: "unlimited" },
    })
    expect(validateSecurity({ retention_months: 120 })).toEqual({ ok: true, value: { retention_months: 120 } })
    expect(
      validateHardware({ cpu_workers: "on", gpu_servers: "", provisioning_hub_url: "https://hub.local/" }),
    ).toEqual({ ok: true, value: { cpu_workers: true, gpu_servers: 0, provisioning_hub_url: "https://hub.local" } })
    expect(validateAdmin({ email: "IT@Firm.example", password: "exactly-12ch" })).toEqual({
      ok: true,
      value: { email: "it@firm.example", password: "exactly-12ch" },
    })
  })

  test("missing steps: the admin step needs its password hash too", () => {
    const answers = {
      license: { mode: "evaluation" as const },
      identity: { company: "A", sector: "LAW" as const },
      topology: { sites: [{ name: "HQ", headcount: 1 }] },
      hardware: { cpu_workers: true, gpu_servers: 0, provisioning_hub_url: null },
      models: { tiers: ["fast" as const] },
      security: { retention_months: null },
      admin: { email: "a@b.c" },
    }
    expect(missingSteps(answers, true)).toEqual([])
    expect(missingSteps(answers, false)).toEqual(["admin"])
    expect(missingSteps({}, false)).toEqual([
      "license",
      "identity",
      "topology",
      "hardware",
      "models",
      "security",
      "admin",
    ])
  })
})

describe("site ids for the replicated site list", () => {
  test.each([
    ["Siège Paris", "siege-paris"],
    ["  Lyon (Part-Dieu) ", "lyon-part-dieu"],
    ["Ñandú_2", "nandu_2"],
    ["***", "site-1"],
  ])("%s → %s", async (name, id) => {
    const { siteIdOf } = await import("../../../core/setup/sites.ts")
    expect(siteIdOf(name, "site-1")).toBe(id)
  })
})
