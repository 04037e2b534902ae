/**
 * The PostgreSQL workloads on this runtime (see `_pg.ts`), a table of medians or `--json`. The
 * same file runs on Deno, Bun and Node 24; `postgres_all.ts` runs it on all three.
 *
 * ```sh
 * deno run -A bench/postgres.ts [options]
 * bun bench/postgres.ts [options]              (add --client Bun.sql for Bun's own client)
 * node bench/postgres.ts [options]
 * ```
 *
 * Options: `--runs N` (default 3), `--smoke` (tiny sizes, one run: a check, not a measurement),
 * `--only id,id`, `--client postgres.js|Bun.sql`, `--json`. The server is `QITE_PG_URL` (the
 * local test server by default). Within a run, a workload and its raw baseline take turns a
 * tenth of a trial at a time; ratios are taken per run, then their median.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import process from "node:process";
import { parseArgs } from "node:util";
import { median, percentile } from "./_stats.ts";
import { runtimeInfo } from "./_runtime.ts";
import { figure, rate, table } from "./_table.ts";
import {
  type ClientName,
  type Context,
  openClient,
  type Trial,
  type Workload,
  WORKLOADS,
} from "./_pg.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runs: { type: "string" },
    smoke: { type: "boolean", default: false },
    only: { type: "string" },
    client: { type: "string", default: "postgres.js" },
    json: { type: "boolean", default: false },
  },
});
const smoke = values.smoke === true;
const runs = values.runs === undefined ? (smoke ? 1 : 3) : Number(values.runs);
const only = values.only?.split(",");
const client = values.client as ClientName;
if (client !== "postgres.js" && client !== "Bun.sql") {
  throw new RangeError(`unknown client ${client}`);
}
const workloads = WORKLOADS.filter((workload) => only?.includes(workload.id) ?? true);
if (only && workloads.length !== only.length) throw new RangeError(`unknown workload in ${only}`);

/** One row of results. */
export interface PgResult {
  readonly workload: string;
  readonly title: string;
  readonly unit: string;
  readonly units: number;
  readonly runs: number;
  readonly perSecond: number;
  readonly samples: number[];
  readonly versus?: string;
  readonly percent?: number;
  readonly p50?: number;
  readonly p99?: number;
  readonly conflicts?: number;
  readonly runtime: string;
  readonly runtimeVersion: string;
  readonly client: string;
  readonly server: string;
  readonly synchronousCommit: string;
}

/** What `--json` prints. */
export interface PgReport {
  readonly runtime: string;
  readonly runtimeVersion: string;
  readonly client: string;
  readonly smoke: boolean;
  readonly results: PgResult[];
}

interface Sample {
  /** Seconds per unit. */
  seconds: number;
  latencies: number[];
}

const PARTS = 10;

/** Prepares a trial of each workload, runs them by turns, closes them. */
async function measure(group: readonly Workload[], context: Context): Promise<Sample[]> {
  const trials: Trial[] = [];
  try {
    for (const workload of group) {
      trials.push(await workload.prepare(context, workload.sizes[smoke ? 1 : 0]));
    }
    const parts = smoke || group.some((workload) => workload.whole) ? 1 : PARTS;
    const samples = trials.map((): Sample => ({ seconds: 0, latencies: [] }));
    for (let part = 0; part < parts; part++) {
      const order = trials.map((_, i) => i);
      for (const i of part % 2 === 0 ? order : order.reverse()) {
        const trial = trials[i]!;
        const count = Math.floor(trial.units * (part + 1) / parts) -
          Math.floor(trial.units * part / parts);
        const started = performance.now();
        const latencies = await trial.run(count);
        samples[i]!.seconds += (performance.now() - started) / 1000;
        if (latencies) samples[i]!.latencies.push(...latencies);
      }
    }
    for (const [i, trial] of trials.entries()) samples[i]!.seconds /= trial.units;
    return samples;
  } finally {
    for (const trial of trials) await trial.close();
  }
}

const runtime = runtimeInfo();
const info = openClient(client, 1);
const [server] = await info.query(
  "select current_setting('server_version') as version, current_setting('synchronous_commit') as sync",
  [],
);
await info.end();
const context: Context = { client, smoke };
const groups = [...new Set(workloads.map((workload) => workload.group))].map((group) =>
  workloads.filter((workload) => workload.group === group)
);
const samples = new Map<Workload, Sample[]>(workloads.map((workload) => [workload, []]));
const conflictsOf = new Map<Workload, number>();
if (!smoke) {
  console.error("warming up");
  await measure(workloads.filter((w) => w.id === "single" || w.id === "raw"), {
    ...context,
    smoke: true,
  });
}
for (let run = 1; run <= runs; run++) {
  for (const group of groups) {
    console.error(`run ${run}/${runs} ${group.map(({ id }) => id).join(", ")}`);
    const measured = await measureWithConflicts(group);
    group.forEach((workload, i) => samples.get(workload)!.push(measured[i]!));
  }
}

/** Like `measure`, keeping each trial's serialization failures. */
async function measureWithConflicts(group: readonly Workload[]): Promise<Sample[]> {
  const wrapped = group.map((workload): Workload => ({
    ...workload,
    prepare: async (c, units) => {
      const trial = await workload.prepare(c, units);
      return {
        ...trial,
        close: async () => {
          await trial.close();
          if (trial.conflicts) {
            conflictsOf.set(workload, (conflictsOf.get(workload) ?? 0) + trial.conflicts());
          }
        },
      };
    },
  }));
  return await measure(wrapped, context);
}

const results = workloads.map((workload): PgResult => {
  const mine = samples.get(workload)!;
  const seconds = median(mine.map((sample) => sample.seconds));
  const baseline = workloads.find((other) => other.id === workload.versus);
  const theirs = baseline === undefined ? undefined : samples.get(baseline);
  return {
    workload: workload.id,
    title: workload.title,
    unit: workload.unit,
    units: workload.sizes[smoke ? 1 : 0],
    runs,
    perSecond: 1 / seconds,
    samples: mine.map((sample) => 1 / sample.seconds),
    ...(theirs === undefined ? {} : {
      versus: workload.versus!,
      percent: 100 / median(mine.map((sample, i) => sample.seconds / theirs[i]!.seconds)),
    }),
    ...(workload.unit === "wake-up"
      ? {
        p50: median(mine.map((sample) => percentile(sample.latencies, 0.5))),
        p99: median(mine.map((sample) => percentile(sample.latencies, 0.99))),
      }
      : {}),
    ...(conflictsOf.has(workload) ? { conflicts: conflictsOf.get(workload)! } : {}),
    runtime: runtime.name,
    runtimeVersion: runtime.version,
    client,
    server: String(server?.version),
    synchronousCommit: String(server?.sync),
  };
});

/** The comparison column of a result. */
function note(result: PgResult): string {
  if (result.percent !== undefined) return `${figure(result.percent)} % of ${result.versus}`;
  if (result.p50 !== undefined) {
    return `p50 ${figure(result.p50)} ms, p99 ${figure(result.p99 ?? Number.NaN)} ms`;
  }
  if (result.conflicts !== undefined) return `${result.conflicts} serialization failures`;
  return "";
}

if (values.json) {
  const report: PgReport = {
    runtime: runtime.name,
    runtimeVersion: runtime.version,
    client,
    smoke,
    results,
  };
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(
    `qite PostgreSQL bench: ${runtime.name} ${runtime.version}, ${client}, PostgreSQL ${server?.version} (synchronous_commit ${server?.sync}), ${
      smoke ? "smoke (tiny sizes, not a measurement)" : `medians of ${runs} runs`
    }\n`,
  );
  console.log(table(
    ["workload", " units/s", "compared"],
    results.map((result) => [
      result.title,
      `${rate(result.perSecond)} ${result.unit}/s`,
      note(result),
    ]),
  ));
}
