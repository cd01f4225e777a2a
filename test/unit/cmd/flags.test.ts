import { describe, expect, test } from "bun:test"
import { repeated, withListFlags } from "../../../cmd/_flags.ts"

describe("repeated flags", () => {
  test.each([
    ["spaced and = forms, in order", ["--site", "a", "--x", "1", "--site=b:3"], ["a", "b:3"]],
    ["a flag with nothing after it adds nothing", ["--site"], []],
    ["an empty = value adds nothing", ["--site="], []],
    ["a flag whose name only starts the same is another flag", ["--sites", "a", "--site-x=b"], []],
    ["none given", ["--other", "v"], []],
  ])("%s", (_name, rawArgs, want) => {
    expect(repeated(rawArgs, "site")).toEqual(want)
  })

  test("every list setting of the role takes all its flags; other args are kept", () => {
    const raw = ["--upstream", "http://a:1", "--upstream=http://b:2", "--trusted-proxies", "10.0.0.0/8", "--port", "9"]
    // citty keeps only the last value of each; withListFlags restores them all.
    const args = { upstream: "http://b:2", "trusted-proxies": "10.0.0.0/8", port: "9" }
    expect(withListFlags("proxy", args, raw)).toEqual({
      upstream: ["http://a:1", "http://b:2"],
      "trusted-proxies": ["10.0.0.0/8"],
      port: "9",
    })
  })

  test("a list flag not given stays as citty left it (the environment then decides)", () => {
    expect(withListFlags("worker", { "log-level": "warn" }, ["--log-level", "warn"])).toEqual({ "log-level": "warn" })
  })
})
