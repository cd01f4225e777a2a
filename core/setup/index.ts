// core/setup — first boot: the wizard's steps and validation, sector defaults, the gate that keeps the
// pool closed until setup is completed, and the headless path (answers file). No HTTP types here.
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { rehashLegacyPasswords } from "../auth/legacy.ts"
import { logger } from "../log.ts"
import { applyAnswers, readAnswersFile } from "./apply.ts"
import { SetupGate } from "./gate.ts"
import { isSetupComplete, type StepDeps } from "./state.ts"

export { applyAnswers, readAnswersFile, type AnswersFile, type HeadlessResult } from "./apply.ts"
export { isOpenBeforeSetup, SETUP_URL, SetupGate, SetupPending } from "./gate.ts"
export { applySectorDefaults, SECTOR_DEFAULTS, SECTORS, type Sector } from "./sectors.ts"
export {
  completeSetup,
  isSetupComplete,
  readProfile,
  readSetup,
  saveStep,
  SetupCompleted,
  SetupIncomplete,
  StepInvalid,
} from "./state.ts"
export { STEPS, type StepId, type Answers } from "./steps.ts"
export { publishSetupSites, siteIdOf, type SitePublish } from "./sites.ts"

const log = logger("setup")

/**
 * At pool boot: re-hash legacy clear-text admin passwords, apply CELLULE_SETUP_ANSWERS when setup is
 * still pending, and return the gate (open at once when setup is already completed).
 */
export async function bootSetup(
  sql: Sql,
  clock: Clock,
  opts: { answersFile?: string; deps?: StepDeps } = {},
): Promise<SetupGate> {
  await rehashLegacyPasswords(sql)
  const gate = new SetupGate(sql, clock)
  if (await isSetupComplete(sql)) {
    gate.markComplete()
    return gate
  }
  if (opts.answersFile) {
    const r = await applyAnswers(sql, clock, readAnswersFile(opts.answersFile), opts.deps)
    log.info(`setup completed from ${opts.answersFile} (admin ${r.adminEmail})`)
    gate.markComplete()
  } else {
    log.warn(
      "setup pending: every route but /v1/status and /setup/* answers 503 until the wizard at /setup/ui is completed",
    )
  }
  return gate
}
