/**
 * Runs `postgres.ts` on Deno (postgres.js), Bun (Bun.sql, then postgres.js) and Node 24
 * (postgres.js), one after the other, and prints their results side by side. Bun and Node come
 * through npx (pinned versions) unless QITE_BUN / QITE_NODE name an executable.
 *
 * Usage: deno run -A bench/postgres_all.ts [deno|bun|bun-postgres.js|node ...]
 *   [postgres.ts options, e.g. --smoke --runs 5 --only single,raw] [--json] [--from file.json]
 *
 * @module
 */

// deno-lint-ignore-file no-console

import type { PgReport, PgResult } from "./postgres.ts";
import { figure, rate, table } from "./_table.ts";

const BUN_VERSION = "1.4.5";
const NODE_VERSION = "24.21.0";

const root = new URL("..", import.meta.url).pathname;

function npx(spec: string, override: string | undefined): string[] {
  return override ? [override] : ["npx", "-y", spec];
}

const bun = npx(`bun@${BUN_VERSION}`, Deno.env.get("QITE_BUN"));
const commands: Record<string, string[]> = {
  deno: [Deno.execPath(), "run", "-A", "bench/postgres.ts"],
  bun: [...bun, "bench/postgres.ts", "--client", "Bun.sql"],
  "bun-postgres.js": [...bun, "bench/postgres.ts"],
  node: [...npx(`node@${NODE_VERSION}`, Deno.env.get("QITE_NODE")), "bench/postgres.ts"],
};

const from = Deno.args.indexOf("--from");
const saved = from < 0 ? undefined : Deno.args[from + 1];
const args = from < 0 ? Deno.args : Deno.args.toSpliced(from, 2);
const named = args.filter((arg) => arg in commands);
const passed = args.filter((arg) => !(arg in commands));
const json = passed.includes("--json");
const options = passed.filter((arg) => arg !== "--json");
const runtimes = named.length > 0 ? named : Object.keys(commands);

async function report(runtime: string): Promise<PgReport> {
  const command = [...commands[runtime]!, ...options, "--json"];
  console.error(`\n=== ${runtime}: ${command.join(" ")}`);
  const { code, stdout } = await new Deno.Command(command[0]!, {
    args: command.slice(1),
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`${runtime} exited with ${code}`);
  return JSON.parse(new TextDecoder().decode(stdout));
}

const reports: PgReport[] = saved === undefined ? [] : JSON.parse(Deno.readTextFileSync(saved));
if (saved === undefined) { for (const runtime of runtimes) reports.push(await report(runtime)); }

function note(result: PgResult): string {
  if (result.percent !== undefined) return `${figure(result.percent)} %`;
  if (result.p50 !== undefined) {
    return `p50 ${figure(result.p50)}, p99 ${figure(result.p99 ?? Number.NaN)} ms`;
  }
  if (result.conflicts !== undefined) return `${result.conflicts} ser. failures`;
  return "";
}

if (json) {
  console.log(JSON.stringify(reports, null, 2));
} else {
  const first = new Map<string, PgResult>();
  for (const { results } of reports) {
    for (const result of results) {
      if (!first.has(result.workload)) first.set(result.workload, result);
    }
  }
  const server = reports[0]?.results[0];
  console.log(
    `\nqite PostgreSQL bench, side by side (units/s, medians; % of the raw baseline within each ` +
      `run)\nPostgreSQL ${server?.server} (synchronous_commit ${server?.synchronousCommit})\n`,
  );
  console.log(table(
    [
      "workload",
      "unit",
      ...reports.flatMap((r) => [` ${r.runtime} ${r.runtimeVersion} ${r.client}`, "compared"]),
    ],
    [...first.values()].map((row) => [
      row.title,
      row.unit,
      ...reports.flatMap((report) => {
        const result = report.results.find((candidate) => candidate.workload === row.workload);
        return result === undefined ? ["—", ""] : [rate(result.perSecond), note(result)];
      }),
    ]),
  ));
}
