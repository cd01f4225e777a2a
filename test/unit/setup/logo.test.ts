// Logo checks: type by content, 500 KB cap, SVG stripped of anything that runs or fetches.
import { describe, expect, test } from "bun:test"
import { sanitizeSvg, sniffLogo, validateLogo } from "../../../core/setup/logo.ts"

const enc = (s: string) => new TextEncoder().encode(s)

describe("logo", () => {
  test("the type comes from the bytes, not the name", () => {
    expect(sniffLogo(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe("image/png")
    expect(sniffLogo(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe("image/jpeg")
    expect(sniffLogo(enc('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe("image/svg+xml")
    expect(sniffLogo(enc("<html><svg></svg></html>"))).toBeNull()
    expect(sniffLogo(enc("GIF89a"))).toBeNull()
  })

  test.each([
    ["empty", new Uint8Array(), "logo_invalid"],
    ["over 500 KB", new Uint8Array(500 * 1024 + 1).fill(0xff), "logo_too_large"],
    ["a GIF", enc("GIF89a....."), "logo_type"],
  ])("%s is refused (%s)", (_n, bytes, code) => {
    expect(() => validateLogo(bytes)).toThrow(expect.objectContaining({ code }))
  })

  test.each([
    ["script element", "<svg><script>alert(1)</script><rect/></svg>", "<script"],
    ["self-closing script", '<svg><script href="x.js"/><rect/></svg>', "<script"],
    ["event handler", '<svg onload="alert(1)"><rect onclick=alert(2) /></svg>', "on"],
    ["javascript: link", '<svg><a href="javascript:alert(1)"><rect/></a></svg>', "javascript:"],
    ["xlink to another site", '<svg><image xlink:href="https://evil.example/p.png"/></svg>', "evil.example"],
    ["foreignObject HTML", '<svg><foreignObject><iframe src="x"></iframe></foreignObject></svg>', "iframe"],
    ["entity declaration", '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>', "ENTITY"],
    ["CSS url()", '<svg><rect style="fill:url(https://evil.example/a)"/></svg>', "evil.example"],
  ])("SVG %s is removed", (_n, svg, banned) => {
    const clean = sanitizeSvg(svg)
    expect(clean.replace(/<svg|<rect|<image|<a\b/g, "")).not.toMatch(
      new RegExp(banned === "on" ? "\\son\\w+=" : banned.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i"),
    )
    expect(clean).toContain("<svg")
  })

  test("a clean SVG keeps its drawing and same-document references", () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg"><defs><linearGradient id="g"/></defs><rect fill="url(#g)" width="4" height="4"/><use href="#g"/></svg>'
    expect(sanitizeSvg(svg)).toBe(svg)
  })
})
