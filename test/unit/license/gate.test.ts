import { describe, expect, test } from "bun:test"
import {
  checkMutation,
  FeatureNotLicensed,
  type GateStatus,
  type License,
  LicenseRequired,
  licenseState,
  type LicenseState,
  requireFeature,
  requireLimit,
  type VerifyResult,
} from "../../../core/license/index.ts"

const license: License = {
  client_id: "cluster-example-001",
  tier: "cabinet",
  features: ["rag_documents", "balancer"],
  limits: { max_pools: 5, max_users: 0 },
  iat: 1_767_225_600,
  exp: 1_798_761_600,
  grace_days: 30,
}
const STATUSES: GateStatus[] = ["active", "warning_j30", "grace", "expired", "revoked", "none", "invalid"]
const state = (status: GateStatus, enforce = true): LicenseState => ({
  status,
  license: status === "none" || status === "invalid" ? null : license,
  enforce,
})
const codeOf = (fn: () => void): string | null => {
  try {
    fn()
    return null
  } catch (e) {
    return (e as { code: string }).code
  }
}

describe("checkMutation", () => {
  test.each(STATUSES.flatMap((s) => ["GET", "HEAD", "OPTIONS", "get"].map((m) => [s, m] as const)))(
    "%s: %s is never blocked",
    (status, method) => {
      expect(codeOf(() => checkMutation(method, state(status)))).toBeNull()
    },
  )

  test.each([
    ["active", null],
    ["warning_j30", null],
    ["grace", null],
    ["none", null],
    ["expired", "license_expired"],
    ["revoked", "license_revoked"],
    ["invalid", "license_invalid"],
  ] as const)("%s: POST gives %s", (status, code) => {
    expect(codeOf(() => checkMutation("POST", state(status)))).toBe(code)
  })

  test.each(["POST", "PUT", "PATCH", "DELETE"])("%s is refused with 402 when expired", (method) => {
    expect(() => checkMutation(method, state("expired"))).toThrow(LicenseRequired)
    expect(() => checkMutation(method, state("expired"))).toThrow(expect.objectContaining({ status: 402 }))
  })

  test.each(["expired", "revoked", "invalid"] as const)("%s: enforce false lets mutations through", (status) => {
    expect(codeOf(() => checkMutation("POST", state(status, false)))).toBeNull()
  })
})

describe("requireFeature", () => {
  test("a licensed feature passes", () => {
    expect(codeOf(() => requireFeature("rag_documents", state("active")))).toBeNull()
  })

  test("a feature missing from the licence is 403 feature_not_licensed", () => {
    expect(() => requireFeature("multi_site", state("active"))).toThrow(FeatureNotLicensed)
    expect(() => requireFeature("multi_site", state("grace"))).toThrow(
      expect.objectContaining({ status: 403, code: "feature_not_licensed" }),
    )
  })

  test("no licence (evaluation mode) passes every feature", () => {
    expect(codeOf(() => requireFeature("multi_site", state("none")))).toBeNull()
  })

  test.each([
    ["expired", "license_expired"],
    ["revoked", "license_revoked"],
    ["invalid", "license_invalid"],
  ] as const)("%s denies even a licensed feature with 402 %s", (status, code) => {
    expect(codeOf(() => requireFeature("rag_documents", state(status)))).toBe(code)
  })

  test("enforce false bypasses the feature gate", () => {
    expect(codeOf(() => requireFeature("multi_site", state("active", false)))).toBeNull()
  })
})

describe("requireLimit", () => {
  test("under the limit passes", () => {
    expect(codeOf(() => requireLimit("max_pools", 4, state("active")))).toBeNull()
  })

  test("at the limit is 402 with the exact code", () => {
    expect(() => requireLimit("max_pools", 5, state("active"))).toThrow(
      expect.objectContaining({ status: 402, code: "limit_reached:max_pools=5>=5" }),
    )
    expect(codeOf(() => requireLimit("max_pools", 7, state("warning_j30")))).toBe("limit_reached:max_pools=7>=5")
  })

  test("a zero limit refuses the first one", () => {
    expect(codeOf(() => requireLimit("max_users", 0, state("active")))).toBe("limit_reached:max_users=0>=0")
  })

  test("an undeclared limit is unlimited", () => {
    expect(codeOf(() => requireLimit("max_projects", 1_000_000, state("active")))).toBeNull()
    expect(codeOf(() => requireLimit("constructor", 1, state("active")))).toBeNull()
  })

  test("no licence is unlimited", () => {
    expect(codeOf(() => requireLimit("max_pools", 99, state("none")))).toBeNull()
  })

  test("an expired licence refuses with 402 license_expired first", () => {
    expect(codeOf(() => requireLimit("max_pools", 0, state("expired")))).toBe("license_expired")
  })

  test("enforce false bypasses the limit", () => {
    expect(codeOf(() => requireLimit("max_pools", 5, state("active", false)))).toBeNull()
  })
})

describe("licenseState", () => {
  const now = license.exp * 1000 + 86_400_000 // one day into grace
  const ok: VerifyResult = { ok: true, license, status: {} as never }
  test.each([
    ["nothing installed", null, {}, "none"],
    ["a valid token", ok, {}, "grace"],
    ["a valid token revoked in the database", ok, { revoked: true }, "revoked"],
    [
      "a client on the shipped list",
      { ok: false, error: "client_revoked", message: "", license, revocation: { reason: "x", revoked_at: "y" } },
      {},
      "revoked",
    ],
    ["a token that no longer verifies", { ok: false, error: "jwt_invalid", message: "" }, {}, "invalid"],
    ["a malformed token", { ok: false, error: "license_malformed", message: "" }, {}, "invalid"],
  ] as const)("%s is %s", (_name, verified, opts, status) => {
    expect(licenseState(verified as VerifyResult | null, now, opts).status).toBe(status)
  })

  test("enforce defaults to true", () => {
    expect(licenseState(null, 0).enforce).toBe(true)
  })
})
