// cellule doctor — checks a running cluster end to end (core/doctor) and prints what is wrong and what to
// do. Exit status 1 when a problem is found; --json prints the report as one JSON object.
import { defineCommand } from "citty"
import { cittyArgs, loadConfig } from "../core/config/index.ts"
import { runDoctor, formatReport } from "../core/doctor/index.ts"
import { CelluleError } from "../core/errors.ts"

export default defineCommand({
  meta: {
    name: "doctor",
    description: "Check a running cluster: pools, bonds, workers, models, licence, VIP, disk, clocks",
  },
  args: {
    ...cittyArgs("cli"),
    pool: {
      type: "string",
      description:
        "Pool URL(s) to start from, comma-separated (bonded peers are found from the first) [default http://127.0.0.1:8080]",
    },
    admin: {
      type: "string",
      description:
        "Administrator e-mail for the admin checks (sent as X-Cellule-User; honoured from loopback/trusted networks)",
    },
    "max-skew-ms": { type: "string", description: "Largest clock difference between pools (default 2000)" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    const config = loadConfig("cli", args)
    const pools = String(args.pool ?? "http://127.0.0.1:8080")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
    const maxSkewMs = args["max-skew-ms"] === undefined ? undefined : Number(args["max-skew-ms"])
    if (maxSkewMs !== undefined && !(maxSkewMs >= 0)) throw new CelluleError("bad_flag", "--max-skew-ms takes a number")
    const report = await runDoctor({ pools, admin: args.admin, dataDir: config.dataDir, maxSkewMs })
    console.log(args.json ? JSON.stringify(report, null, 2) : formatReport(report))
    if (!report.ok)
      throw new CelluleError(
        "doctor_problems",
        `${report.problems} problem(s) found`,
        1,
        "each PROBLEM line says what to do",
      )
  },
})
