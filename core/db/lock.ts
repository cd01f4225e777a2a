// core/db/lock — one process owns a data dir. The lock file holds the owner's pid; a lock whose
// pid is gone (crash, SIGKILL) is stale and taken over, so a killed pool restarts without help.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { CelluleError } from "../errors.ts"

export class DataDirLocked extends CelluleError {
  constructor(dir: string, pid: number) {
    super(
      "data_dir_locked",
      `data dir ${dir} is in use by another cellule process (pid ${pid})`,
      409,
      "stop that process, or give this one its own CELLULE_DATA_DIR",
    )
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

export interface DirLock {
  release(): void
}

/** Take the lock on `dir` for this process, or throw DataDirLocked. */
export function lockDataDir(dir: string, name = "cellule.lock"): DirLock {
  // A new data dir is owner-only: it holds the database, the federation key and the licence.
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, name)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      let released = false
      return {
        release() {
          if (released) return
          released = true
          try {
            if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path)
          } catch {
            // already gone: nothing to release
          }
        },
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      const pid = Number(readFileSync(path, "utf8").trim())
      if (pid && pid !== process.pid && alive(pid)) throw new DataDirLocked(dir, pid)
      // Stale lock (owner gone or file half-written): remove and retry the exclusive create.
      try {
        unlinkSync(path)
      } catch {
        // another process removed it first; the retry decides who wins
      }
    }
  }
  throw new DataDirLocked(dir, Number(readFileSync(path, "utf8").trim()) || 0)
}
