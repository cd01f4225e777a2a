// core/proxy/_log — the proxy's logger (tag cellule.proxy), which is also its access log.
import { logger } from "../log.ts"

export const log = logger("proxy")
// An access log has one line per request: consola's folding of repeated lines is turned off here.
log.options.throttle = 0
