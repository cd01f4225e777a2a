// core/setup/logo — the company logo: PNG, JPEG or SVG up to 500 KB, type decided by content (not by
// the file name), SVG sanitised (no scripts, event handlers, external or javascript: references).
import { BadRequest } from "../errors.ts"

export const MAX_LOGO_BYTES = 500 * 1024
export type LogoMime = "image/png" | "image/jpeg" | "image/svg+xml"

export interface Logo {
  mime: LogoMime
  bytes: Uint8Array
}

export class LogoInvalid extends BadRequest {
  constructor(message: string, code: "logo_too_large" | "logo_type" | "logo_invalid") {
    super(message, code)
  }
}

export function sniffLogo(bytes: Uint8Array): LogoMime | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return "image/png"
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg"
  const head = new TextDecoder().decode(bytes.subarray(0, 2048)).trimStart().toLowerCase()
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/.test(head)) return "image/svg+xml"
  return null
}

/** Removes everything that can run code or fetch something from an SVG; keeps the drawing. */
export function sanitizeSvg(svg: string): string {
  let s = svg
  s = s.replace(/<!DOCTYPE[\s\S]*?(\[[\s\S]*?\])?\s*>/gi, "") // entities (billion laughs, XXE)
  s = s.replace(/<\?(?!xml\s)[\s\S]*?\?>/gi, "") // processing instructions (xml-stylesheet)
  for (const tag of ["script", "foreignObject", "iframe", "embed", "object", "audio", "video", "handler", "listener"]) {
    s = s.replace(new RegExp(`<${tag}\\b[\\s\\S]*?<\\/${tag}\\s*>`, "gi"), "")
    s = s.replace(new RegExp(`<${tag}\\b[^>]*\\/?>`, "gi"), "")
  }
  s = s.replace(/\s(on[a-z]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, "") // event handlers
  // Links and references: only same-document fragments (#id) and inline raster data survive.
  s = s.replace(/\s((?:xlink:)?href|src)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, (m, _attr, v: string) => {
    const val = v
      .replace(/^["']|["']$/g, "")
      .trim()
      .toLowerCase()
    return val.startsWith("#") || /^data:image\/(png|jpeg|gif);/.test(val) ? m : ""
  })
  s = s.replace(/url\(\s*(['"]?)(?!#)[^)]*\1\s*\)/gi, "none") // CSS url(...) to anything but #fragments
  s = s.replace(/@import[^;]*;?/gi, "")
  return s
}

export function validateLogo(bytes: Uint8Array): Logo {
  if (bytes.length === 0) throw new LogoInvalid("the logo file is empty", "logo_invalid")
  if (bytes.length > MAX_LOGO_BYTES)
    throw new LogoInvalid(`the logo is larger than ${MAX_LOGO_BYTES / 1024} KB`, "logo_too_large")
  const mime = sniffLogo(bytes)
  if (!mime) throw new LogoInvalid("the logo must be a PNG, JPEG or SVG image", "logo_type")
  if (mime !== "image/svg+xml") return { mime, bytes }
  const clean = sanitizeSvg(new TextDecoder().decode(bytes))
  if (!/<svg[\s>]/i.test(clean))
    throw new LogoInvalid("the SVG logo has no <svg> element left after sanitising", "logo_invalid")
  return { mime, bytes: new TextEncoder().encode(clean) }
}
