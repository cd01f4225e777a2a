// core/backup/retention — grandfather-father-son pruning of a backup directory, as a pure function:
// keep the newest backup of each of the last N days, N ISO weeks and N months (UTC) that have one.

export interface Keep {
  daily: number
  weekly: number
  monthly: number
}

const day = (d: Date) => d.toISOString().slice(0, 10)
const month = (d: Date) => d.toISOString().slice(0, 7)
function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))
  const dow = t.getUTCDay() || 7
  t.setUTCDate(t.getUTCDate() + 4 - dow) // the week's Thursday decides its year
  const jan1 = Date.UTC(t.getUTCFullYear(), 0, 1)
  const week = Math.ceil(((t.getTime() - jan1) / 86_400_000 + 1) / 7)
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, "0")}`
}

/** The names to keep among `backups`; every other one may be deleted. */
export function gfsKeep(backups: { name: string; date: Date }[], keep: Keep): Set<string> {
  const newest = [...backups].sort((a, b) => b.date.getTime() - a.date.getTime())
  const out = new Set<string>()
  for (const [n, bucket] of [
    [keep.daily, day],
    [keep.weekly, isoWeek],
    [keep.monthly, month],
  ] as const) {
    const seen = new Set<string>()
    for (const b of newest) {
      if (seen.size >= n) break
      const k = bucket(b.date)
      if (seen.has(k)) continue
      seen.add(k)
      out.add(b.name)
    }
  }
  return out
}

/** The date a backup file name carries (cellule-backup-YYYYMMDDTHHMMSSZ.tar.gz), or undefined. */
export function backupDate(name: string): Date | undefined {
  const m = /^cellule-backup-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.tar\.gz$/.exec(name)
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined
}

export function backupName(d: Date): string {
  return `cellule-backup-${d.toISOString().replace(/[-:]/g, "").slice(0, 15)}Z.tar.gz`
}
