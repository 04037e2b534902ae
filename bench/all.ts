/**
 * Runs `run.ts` on Deno, Bun and Node 24, one after the other, and prints their results side by
 * side. Bun and Node come through npx (pinned versions) unless QITE_BUN / QITE_NODE name an
 * executable, as in `tests/_run.ts`.
 *
 * Usage: deno run -A bench/all.ts [deno|bun|node ...] [run.ts options, e.g. --smoke --runs 7]
 *
 * With `--json`, prints every runtime's report as one JSON array instead of the table;
 * `--from file.json` prints the table of such a saved array without running anything.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import type { Report, Result } from "./_report.ts";
import { keepTimings, readTimings } from "./_progress.ts";
import { note } from "./_report.ts";
import { rate, table } from "./_table.ts";

const BUN_VERSION = "1.4.5";
const NODE_VERSION = "24.21.0";

const root = new URL("..", import.meta.url).pathname;

function npx(spec: string, override: string | undefined): string[] {
  return override ? [override] : ["npx", "-y", spec];
}

const commands: Record<string, string[]> = {
  deno: [Deno.execPath(), "run", "-A", "bench/run.ts"],
  bun: [...npx(`bun@${BUN_VERSION}`, Deno.env.get("QITE_BUN")), "bench/run.ts"],
  node: [...npx(`node@${NODE_VERSION}`, Deno.env.get("QITE_NODE")), "bench/run.ts"],
};

const from = Deno.args.indexOf("--from");
const saved = from < 0 ? undefined : Deno.args[from + 1];
const args = from < 0 ? Deno.args : Deno.args.toSpliced(from, 2);
const named = args.filter((arg) => arg in commands);
const passed = args.filter((arg) => !(arg in commands));
const json = passed.includes("--json");
const options = passed.filter((arg) => arg !== "--json");
const runtimes = named.length > 0 ? named : Object.keys(commands);

/**
 * Runs `run.ts --json` on one runtime; its progress goes to our standard error, with which
 * runtime this is and `later`, the estimate in seconds for the runtimes after it.
 */
async function report(runtime: string, index: number, later: number): Promise<Report> {
  const command = [...commands[runtime]!, ...options, "--json"];
  console.error(`\n=== ${runtime}: ${command.join(" ")}`);
  const { code, stdout } = await new Deno.Command(command[0]!, {
    args: command.slice(1),
    cwd: root,
    env: {
      NO_COLOR: "1",
      QITE_BENCH_PROGRESS: `${runtime} ${index + 1}/${runtimes.length};later=${later}`,
    },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`${runtime} exited with ${code}`);
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** The key of a runtime's whole run with these options, for the progress estimates. */
function timingKey(runtime: string): string {
  return `all.ts ${runtime} ${options.join(" ")}`;
}

const reports: Report[] = saved === undefined ? [] : JSON.parse(Deno.readTextFileSync(saved));
if (saved === undefined) {
  // A runtime still to run is estimated by its last whole run with the same options, or else
  // as long as the ones already run here (unknown, NaN, before the first).
  const took: number[] = [];
  for (const [index, runtime] of runtimes.entries()) {
    const kept = readTimings();
    const mean = took.reduce((a, b) => a + b, 0) / took.length;
    const later = runtimes.slice(index + 1)
      .reduce((sum, next) => sum + (kept[timingKey(next)] ?? mean), 0);
    const started = performance.now();
    reports.push(await report(runtime, index, later));
    took.push((performance.now() - started) / 1000);
    keepTimings({ [timingKey(runtime)]: took.at(-1)! });
  }
}

if (json) {
  console.log(JSON.stringify(reports, null, 2));
} else {
  const key = (result: Result): string => `${result.workload} ${result.storage}`;
  const first = new Map<string, Result>();
  for (const { results } of reports) {
    for (const result of results) if (!first.has(key(result))) first.set(key(result), result);
  }
  const cell = (report: Report, row: Result): string[] => {
    const result = report.results.find((candidate) => key(candidate) === key(row));
    return result === undefined ? ["—", ""] : [`${rate(result.perSecond)}`, note(result)];
  };
  console.log("\nqite bench, side by side (units/s, medians; the comparison is within each run)\n");
  for (const { runtime, runtimeVersion, results } of reports) {
    const { driver, sqliteVersion } = results[0] ?? { driver: "?", sqliteVersion: "?" };
    console.log(`${runtime} ${runtimeVersion}: ${driver}, SQLite ${sqliteVersion}`);
  }
  console.log();
  console.log(table(
    [
      "workload",
      "storage",
      "journal/sync",
      "unit",
      ...reports.flatMap(({ runtime }) => [` ${runtime}`, "compared"]),
    ],
    [...first.values()].map((row) => [
      row.title,
      row.storage,
      `${row.journalMode}/${row.synchronous}`,
      row.unit,
      ...reports.flatMap((report) => cell(report, row)),
    ]),
  ));
}
