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
import { Progress, type Step } from "./_progress.ts";
import { note, type Report, type Result } from "./_report.ts";
import { figure, rate, table } from "./_table.ts";
import { companionsOf, measure, ratio, type Sample } from "./_trial.ts";
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

/**
 * A result's comparison: with its baseline (the companion run by turns with it, or the baseline
 * of its group), or, for wake-ups, the latency percentiles.
 */
function compared(
  workload: Workload,
  mine: readonly Sample[],
  samples: ReadonlyMap<Workload, Sample[]>,
  companions: ReadonlyMap<Workload, Sample[]>,
): Partial<Result> {
  const versus = workload.versus;
  const baseline = companions.get(workload) ??
    [...samples].find(([other]) => other.id === versus?.id)?.[1];
  if (versus !== undefined && baseline !== undefined) {
    const times = ratio(mine, baseline);
    const baselinePerSecond = 1 / median(baseline.map((sample) => sample.seconds));
    return versus.as === "percent"
      ? { versus: versus.id, percent: 100 / times, baselinePerSecond }
      : { versus: versus.id, times, baselinePerSecond };
  }
  if (workload.unit === "cpu") return { cpu: median(mine.map((sample) => sample.latencies[0]!)) };
  if (workload.unit !== "wake-up") return {};
  return {
    p50: median(mine.map((sample) => percentile(sample.latencies, 0.5))),
    p99: median(mine.map((sample) => percentile(sample.latencies, 0.99))),
  };
}

/** The chosen workloads that run on `storage`, by group. */
function groupsOf(storage: StorageName): Workload[][] {
  const chosen = workloads.filter((workload) => workload.storages.includes(storage));
  return [...new Set(chosen.map((workload) => workload.group))].map((group) =>
    chosen.filter((workload) => workload.group === group)
  );
}

/** A group's workloads and the baselines from other groups run by turns with them. */
function withCompanions(group: readonly Workload[]): Workload[] {
  return [...group, ...companionsOf(group, WORKLOADS)];
}

/** Every step of this invocation, in order, for the progress lines. */
function plan(): Step[] {
  const steps: Step[] = [];
  for (const storage of storages) {
    const groups = groupsOf(storage);
    if (groups.length === 0) continue;
    if (!smoke) steps.push({ key: `${storage} warm-up`, label: `${storage} warm-up` });
    for (let run = 1; run <= runs; run++) {
      for (const group of groups) {
        const ids = withCompanions(group).map(({ id }) => id).join(", ");
        steps.push({ key: `${storage} ${ids}`, label: `${storage} run ${run}/${runs}: ${ids}` });
      }
    }
  }
  return steps;
}

const progress = new Progress(
  `${runtime.name} ${runtime.version} ${driver ?? ""} ${smoke ? "smoke" : "full"}`,
  plan(),
);
let step = 0;

async function measureStorage(storage: StorageName): Promise<Result[]> {
  const groups = groupsOf(storage);
  const chosen = groups.flat();
  const context: Context = { storage, driver, smoke };
  if (!smoke && groups.length > 0) {
    progress.start(step);
    for (const group of groups) {
      await measure(group.map((workload) => ({ workload, context: { ...context, smoke: true } })));
    }
    progress.finish(step++);
  }
  const samples = new Map<Workload, Sample[]>(chosen.map((workload) => [workload, []]));
  // The samples of baselines from other groups, taken by turns with each workload compared.
  const companions = new Map<Workload, Sample[]>();
  const settings = new Map<Workload, Settings>();
  for (let run = 1; run <= runs; run++) {
    for (const group of groups) {
      const extra = withCompanions(group).slice(group.length);
      progress.start(step);
      const measured = await measure(
        [...group, ...extra].map((workload) => ({ workload, context })),
      );
      progress.finish(step++);
      group.forEach((workload, i) => {
        const [seen, sample] = measured[i]!;
        settings.set(workload, seen);
        samples.get(workload)!.push(sample);
        const at = extra.findIndex((other) => other.id === workload.versus?.id);
        if (at >= 0) {
          companions.set(workload, [
            ...companions.get(workload) ?? [],
            measured[group.length + at]![1],
          ]);
        }
      });
    }
  }
  return chosen.map((workload): Result => {
    const mine = samples.get(workload)!;
    const secondsPerUnit = median(mine.map((sample) => sample.seconds));
    const names = Object.keys(mine[0]?.counters ?? {});
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
      ...compared(workload, mine, samples, companions),
      ...names.length === 0 ? {} : {
        perUnit: Object.fromEntries(
          names.map((name) => [name, median(mine.map((sample) => sample.counters?.[name] ?? 0))]),
        ),
      },
      runtime: runtime.name,
      runtimeVersion: runtime.version,
      ...settings.get(workload)!,
    };
  });
}

const results: Result[] = [];
for (const storage of storages) results.push(...await measureStorage(storage));
progress.save();

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
