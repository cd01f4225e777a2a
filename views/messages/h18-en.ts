// views/messages/h18-en — the Models page's satellite copies and probe forms (issue 18); spread into
// catalogue-en.ts (en.ts is near its 400-line limit).
export const h18En = {
  "models.copy.copying": "Copying from the catalogue master: {pct} %",
  "models.copy.failed": "The copy from the catalogue master failed and will resume: {error}",
  "models.copy.done": "Copied from the catalogue master.",
  "models.probes": "Model probes",
  "models.probe_started": "Probe of {file} started: reload the page to see its answers.",
  "models.probe_accepted": "{file} accepted: it can now be assigned to the fleet.",
} as const
