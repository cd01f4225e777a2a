// The typed checks of the Advanced settings (core/config/cluster-settings.ts): what is accepted, what is
// refused and with which reason, and that the federation kind applies the same checks to a peer's value.
import { describe, expect, test } from "bun:test"
import {
  CLUSTER_SETTINGS,
  clusterSettingDef,
  parseMoeProfile,
  parseRuntimeFlags,
} from "../../../core/config/cluster-settings.ts"
import { clusterSetting } from "../../../core/federation/kinds/setting.ts"
import { SETTINGS } from "../../../core/config/settings.ts"
import { CABINET_MAX_HEADCOUNT, profileFor, recommendationFor } from "../../../core/settings/recommend.ts"
import { SECTORS } from "../../../core/setup/sectors.ts"

describe("runtime flags", () => {
  test("a full set is accepted as given", () => {
    const f = {
      context_size: 8192,
      threads: 8,
      batch_size: 512,
      parallel: 4,
      flash_attention: true,
      kv_cache_type: "q8_0",
    }
    expect(parseRuntimeFlags(f)).toEqual(f as never)
    expect(parseRuntimeFlags({})).toEqual({})
  })

  test.each([
    ["not an object", [1], "JSON object"],
    ["a context below 256", { context_size: 100 }, "context_size must be a whole number from 256"],
    ["fractional threads", { threads: 1.5 }, "threads must be a whole number"],
    ["parallel over 64", { parallel: 65 }, "parallel must be a whole number from 1 to 64"],
    ["flash attention as text", { flash_attention: "yes" }, "flash_attention must be true or false"],
    ["an unknown cache type", { kv_cache_type: "q2" }, "kv_cache_type must be one of f16, q8_0, q4_0"],
    ["a quantised cache without flash attention", { kv_cache_type: "q4_0" }, "needs flash_attention: true"],
    ["a batch larger than the whole context", { context_size: 512, batch_size: 1024 }, "batch_size must not exceed"],
    ["an unknown field", { gpu_layers: 10 }, "unknown field gpu_layers"],
  ])("%s is refused", (_name, value, reason) => {
    expect(() => parseRuntimeFlags(value)).toThrow(reason)
    try {
      parseRuntimeFlags(value)
    } catch (e) {
      expect((e as { code: string; status: number }).code).toBe("setting_invalid")
      expect((e as { status: number }).status).toBe(400)
    }
  })
})

describe("MoE profile", () => {
  test("experts default to weight 1 and spread to weighted", () => {
    expect(parseMoeProfile({ experts: [{ model: "small" }, { model: "large", weight: 0 }] })).toEqual({
      experts: [
        { model: "small", weight: 1 },
        { model: "large", weight: 0 },
      ],
      spread: "weighted",
    })
  })

  test.each([
    ["an unknown spread", { spread: "random" }, "spread must be weighted or least_loaded"],
    ["an expert named auto", { experts: [{ model: "auto" }] }, "must be a served model id"],
    ["an expert twice", { experts: [{ model: "a" }, { model: "a" }] }, "listed twice"],
    ["only zero weights", { experts: [{ model: "a", weight: 0 }] }, "at least one expert"],
    ["a weight over 100", { experts: [{ model: "a", weight: 101 }] }, "weight must be a whole number from 0 to 100"],
  ])("%s is refused", (_name, value, reason) => {
    expect(() => parseMoeProfile(value)).toThrow(reason)
  })
})

describe("the registry", () => {
  test("every setting has both descriptions, a recommendation per profile and a default its own check accepts", () => {
    for (const d of CLUSTER_SETTINGS) {
      expect(d.doc.en.length).toBeGreaterThan(20)
      expect(d.doc.fr.length).toBeGreaterThan(20)
      expect(d.recommend.cabinet).toBeDefined()
      expect(d.recommend.corporate).toBeDefined()
      expect(d.validate(d.default)).toEqual(d.default as never)
      if (d.env) expect(SETTINGS.some((s) => s.key === d.env)).toBe(true)
    }
    expect(clusterSettingDef("runtime_flags.apple-m")?.category).toBe("workers")
  })

  test("a peer's envelope gets the same check: a bad runtime flag is payload_invalid, a good one normalised", () => {
    expect(() => clusterSetting.parse({ key: "runtime_flags.cpu-mid", value: { threads: 0 } })).toThrow(
      "threads must be a whole number",
    )
    expect(clusterSetting.parse({ key: "moe.profile", value: { experts: [{ model: "m" }] } })).toEqual({
      key: "moe.profile",
      value: { experts: [{ model: "m", weight: 1 }], spread: "weighted" },
    })
    // Untyped cluster values keep their old rule.
    expect(clusterSetting.parse({ key: "moe_local_config", value: { anything: 1 } }).value).toEqual({ anything: 1 })
  })
})

describe("recommendations per profile and sector", () => {
  test("every sector's recommendation is a value the setting accepts (the MoE profile's model names are placeholders)", () => {
    for (const sector of SECTORS)
      for (const headcount of [5, 500])
        for (const def of CLUSTER_SETTINGS.filter((d) => d.key !== "moe.profile")) {
          const r = recommendationFor(def, sector, headcount)
          expect(r.sector).toBe(sector)
          expect(() => def.validate(r.value)).not.toThrow()
        }
  })
  test("the profile follows the headcount; the sector changes a value only with a reason", () => {
    expect(profileFor(CABINET_MAX_HEADCOUNT)).toBe("cabinet")
    expect(profileFor(CABINET_MAX_HEADCOUNT + 1)).toBe("corporate")
    const anon = clusterSettingDef("openai.anonymous_access")!
    expect(recommendationFor(anon, "DESIGN", 10)).toEqual({ sector: "DESIGN", profile: "cabinet", value: true })
    const law = recommendationFor(anon, "LAW", 10)
    expect(law.value).toBe(false)
    expect(law.why?.fr).toContain("secret professionnel")
    expect(recommendationFor(anon, "HEALTHCARE", 400)).toMatchObject({ profile: "corporate", value: false })
    // An unknown sector counts as OTHER (the profile's value).
    expect(recommendationFor(anon, "MINING", 10)).toEqual({ sector: "OTHER", profile: "cabinet", value: true })
  })
})
