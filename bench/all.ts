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
 * The array is also written to a file, `--out file.json` (by default `bench/results/latest.json`
 * for a measurement, nothing for `--smoke`), with its chart beside it (`file.svg`, see
 * `_chart.ts`); with `--from`, the chart is drawn again beside the saved file.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { chart } from "./_chart.ts";
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

/** The value of `--name value` in `args`, and `args` without them. */
function take(args: readonly string[], name: string): [string | undefined, string[]] {
  const at = args.indexOf(name);
  if (at < 0) return [undefined, [...args]];
  if (args[at + 1] === undefined) throw new RangeError(`${name} needs a file name`);
  return [args[at + 1], args.toSpliced(at, 2)];
}

const [saved, rest] = take(Deno.args, "--from");
const [outOption, args] = take(rest, "--out");
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

const out = saved ?? outOption ??
  (options.includes("--smoke") ? undefined : `${root}bench/results/latest.json`);
if (out !== undefined) {
  if (saved === undefined) Deno.writeTextFileSync(out, JSON.stringify(reports, null, 2) + "\n");
  const svg = out.replace(/(\.json)?$/, ".svg");
  const runs = reports[0]?.results[0]?.runs ?? 0;
  const caption = `units/s, medians of ${runs} run${runs === 1 ? "" : "s"} per runtime; ` +
    `the ratios are medians of the ratios within each run · ${out.split("/").at(-1)} · ${
      new Date().toISOString().slice(0, 10)
    }`;
  Deno.writeTextFileSync(svg, chart(reports, caption));
  console.error(`\nwrote ${saved === undefined ? `${out} and ` : ""}${svg}`);
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
