// core/db/_private — owner-only file modes for what the embedded database keeps on disk. Never
// follows a symbolic link: a link planted in the tree must not turn a chmod onto another file.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs"
import { join } from "node:path"

/** Creates `dir` (and parents) if needed; `dir` itself ends 0700 whatever it was. */
export function privateDir(dir: string) {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
}

/** Every directory under `root` (itself included) 0700, every file 0600. */
export function ownerOnly(root: string) {
  const walk = (path: string) => {
    const st = lstatSync(path)
    if (st.isSymbolicLink()) return
    if (st.isDirectory()) {
      if ((st.mode & 0o777) !== 0o700) chmodSync(path, 0o700)
      for (const name of readdirSync(path)) walk(join(path, name))
    } else if ((st.mode & 0o777) !== 0o600) chmodSync(path, 0o600)
  }
  walk(root)
}
