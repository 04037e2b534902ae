/**
 * Runs every workload on this runtime and prints a table of medians, or JSON with `--json`.
 * The same file runs on Deno, Bun and Node 24:
 *
 * ```sh
 * deno run -A bench/run.ts [options]
 * bun bench/run.ts [options]
 * node bench/run.ts [options]
 * ```
 *
 * Options: `--runs N` (default 5), `--smoke` (tiny sizes, one run: a check, not a measurement),
 * `--only id,id` (workload ids), `--storage memory,wal-normal,wal-full`, `--driver node:sqlite`
 * (on Bun; the runtime's default otherwise), `--json`. Progress goes to standard error.
 *
 * Within a run, the workloads compared with each other take turns a tenth of a trial at a time
 * (see `_trial.ts`); ratios are taken per run, then their median. One untimed warm-up at smoke
 * size precedes each storage's runs.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import process from "node:process";
import { parseArgs } from "node:util";
import { median, percentile } from "./_stats.ts";
import { runtimeInfo } from "./_runtime.ts";
import { type OpenDriver, type Settings, type StorageName, STORAGES } from "./_storage.ts";
import { note, type Report, type Result } from "./_report.ts";
import { figure, rate, table } from "./_table.ts";
import { measure, ratio, type Sample } from "./_trial.ts";
import { type Context, unitsOf, type Workload, WORKLOADS } from "./_workloads.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runs: { type: "string" },
    smoke: { type: "boolean", default: false },
    only: { type: "string" },
    storage: { type: "string" },
    driver: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const smoke = values.smoke === true;
const runs = values.runs === undefined ? (smoke ? 1 : 5) : Number(values.runs);
const only = values.only?.split(",");
const storages = (values.storage?.split(",") ?? STORAGES) as StorageName[];
const driver = values.driver as OpenDriver | undefined;
if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`--runs must be ≥ 1: ${values.runs}`);
for (const storage of storages) {
  if (!STORAGES.includes(storage)) throw new RangeError(`unknown storage ${storage}`);
}
const workloads = WORKLOADS.filter((workload) => only?.includes(workload.id) ?? true);
if (only && workloads.length !== only.length) throw new RangeError(`unknown workload in ${only}`);

const runtime = runtimeInfo();

/** A result's comparison: with its baseline, or, for wake-ups, the latency percentiles. */
function compared(
  workload: Workload,
  mine: readonly Sample[],
  samples: ReadonlyMap<Workload, Sample[]>,
): Partial<Result> {
  const versus = workload.versus;
  const baseline = [...samples].find(([other]) => other.id === versus?.id)?.[1];
  if (versus !== undefined && baseline !== undefined) {
    const times = ratio(mine, baseline);
    return versus.as === "percent"
      ? { versus: versus.id, percent: 100 / times }
      : { versus: versus.id, times };
  }
  if (workload.unit === "cpu") return { cpu: median(mine.map((sample) => sample.latencies[0]!)) };
  if (workload.unit !== "wake-up") return {};
  return {
    p50: median(mine.map((sample) => percentile(sample.latencies, 0.5))),
    p99: median(mine.map((sample) => percentile(sample.latencies, 0.99))),
  };
}

async function measureStorage(storage: StorageName): Promise<Result[]> {
  const chosen = workloads.filter((workload) => workload.storages.includes(storage));
  const context: Context = { storage, driver, smoke };
  const groups = [...new Set(chosen.map((workload) => workload.group))].map((group) =>
    chosen.filter((workload) => workload.group === group)
  );
  if (!smoke) {
    console.error(`${storage}: warming up`);
    for (const group of groups) {
      await measure(group.map((workload) => ({ workload, context: { ...context, smoke: true } })));
    }
  }
  const samples = new Map<Workload, Sample[]>(chosen.map((workload) => [workload, []]));
  const settings = new Map<Workload, Settings>();
  for (let run = 1; run <= runs; run++) {
    for (const group of groups) {
      console.error(`${storage}: run ${run}/${runs} ${group.map(({ id }) => id).join(", ")}`);
      const measured = await measure(group.map((workload) => ({ workload, context })));
      group.forEach((workload, i) => {
        const [seen, sample] = measured[i]!;
        settings.set(workload, seen);
        samples.get(workload)!.push(sample);
      });
    }
  }
  return chosen.map((workload): Result => {
    const mine = samples.get(workload)!;
    const secondsPerUnit = median(mine.map((sample) => sample.seconds));
    return {
      workload: workload.id,
      title: workload.title,
      storage,
      unit: workload.unit,
      units: unitsOf(workload, context),
      runs,
      perSecond: 1 / secondsPerUnit,
      microsPerUnit: secondsPerUnit * 1e6,
      samples: mine.map((sample) => 1 / sample.seconds),
      ...compared(workload, mine, samples),
      runtime: runtime.name,
      runtimeVersion: runtime.version,
      ...settings.get(workload)!,
    };
  });
}

const results: Result[] = [];
for (const storage of storages) results.push(...await measureStorage(storage));

if (values.json) {
  const report: Report = { runtime: runtime.name, runtimeVersion: runtime.version, smoke, results };
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(
    `qite bench: ${runtime.name} ${runtime.version}, ${
      smoke ? "smoke (tiny sizes, not a measurement)" : `medians of ${runs} runs`
    }\n`,
  );
  console.log(table(
    [
      "workload",
      "storage",
      " units/s",
      " µs/unit",
      "compared",
      "runtime",
      "driver",
      "SQLite",
      "journal",
      "synchronous",
    ],
    results.map((result) => [
      result.title,
      result.storage,
      `${rate(result.perSecond)} ${result.unit}/s`,
      figure(result.microsPerUnit),
      note(result),
      `${result.runtime} ${result.runtimeVersion}`,
      result.driver,
      result.sqliteVersion,
      result.journalMode,
      result.synchronous,
    ]),
  ));
}
