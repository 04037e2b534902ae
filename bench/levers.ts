/**
 * What bounds the single-message, batch and job-runner workloads: each run again with one thing
 * changed, by turns with the unchanged one (see `_trial.ts`), on a WAL file. `single-old-path`
 * is the Queue as it was before it handled locks without blocking (see `_old_path.ts`);
 * `goqite-raw` in the `single` group is goqite's own statements on goqite's schema alone, the
 * limit the bench compares `single` with; the index levers show what each index costs a write
 * and what qite's two protect (`lapsed`). These are experiments, not qite's behaviour: dropping
 * goqite's trigger or index or qite's indexes breaks guarantees or Go programs, goqite's random
 * ids are what qite moved away from. Runs unchanged on Deno, Bun and Node:
 *
 * ```sh
 * deno run -A bench/levers.ts [--runs N] [--storage wal-normal] [--smoke] [--only single,…]
 * bun bench/levers.ts
 * node bench/levers.ts
 * ```
 *
 * @module
 */

// deno-lint-ignore-file no-console

import process from "node:process";
import { parseArgs } from "node:util";
import { runtimeInfo } from "./_runtime.ts";
import { median } from "./_stats.ts";
import type { StorageName, Store } from "./_storage.ts";
import { figure, rate, table } from "./_table.ts";
import { measure, ratio, type Sample } from "./_trial.ts";
import { type Workload, WORKLOADS } from "./_workloads.ts";
import { oldPath } from "./_old_path.ts";

/** The workloads the levers can name: the bench's own and the old path's. */
const KNOWN: readonly Workload[] = [...WORKLOADS, oldPath];

/** A workload with one thing changed. */
interface Lever {
  readonly workload: string;
  /** The levers measured by turns with each other, compared with the group's `none`. */
  readonly group?: string;
  readonly change: string;
  readonly tweak?: (store: Store) => void;
  readonly prefetch?: number;
}

/** A tweak that drops these indexes. */
function without(...indexes: string[]): (store: Store) => void {
  return (store) => store.db.exec(indexes.map((index) => `drop index ${index}`).join("; "));
}

/** Rebuilds a file's (empty, just set-up) database with pages of 1 KiB; memory is left as is. */
function smallPages(store: Store): void {
  if (store.path === "") return;
  store.db.exec(
    "pragma journal_mode = delete; pragma page_size = 1024; vacuum; pragma journal_mode = wal",
  );
}

const LEVERS: readonly Lever[] = [
  { workload: "single", change: "none" },
  { workload: "single-old-path", change: "the old path: blocking statements, no lock handling" },
  {
    workload: "goqite-raw",
    group: "single",
    change: "goqite's own statements raw, goqite's schema alone (the bench's goqite-raw)",
  },
  {
    workload: "single",
    change: "without qite's two indexes (goqite's index only)",
    tweak: without("qite_ready_idx", "qite_waiting_idx"),
  },
  {
    workload: "single",
    change: "without goqite's index (qite's two only)",
    tweak: without("goqite_queue_priority_created_idx"),
  },
  {
    workload: "single",
    change: "without qite_waiting_idx (no retries found, no dead skipped: a lower bound)",
    tweak: without("qite_waiting_idx"),
  },
  {
    workload: "single",
    change: "without qite_ready_idx (no order among the fresh: a lower bound)",
    tweak: without("qite_ready_idx"),
  },
  {
    workload: "single",
    change: "the database's pages 1 KiB instead of 4 (both indexes kept)",
    tweak: smallPages,
  },
  {
    workload: "goqite-raw",
    group: "single",
    change: "goqite-raw with pages of 1 KiB (the baseline of the row above)",
    tweak: smallPages,
  },
  { workload: "lapsed", change: "none" },
  {
    workload: "lapsed",
    change: "without qite's two indexes (goqite's index only)",
    tweak: without("qite_ready_idx", "qite_waiting_idx"),
  },
  { workload: "batch-raw", change: "none" },
  {
    workload: "batch-raw",
    change: "without goqite's trigger",
    tweak: (store): void => store.db.exec("drop trigger goqite_updated_timestamp"),
  },
  {
    workload: "batch-raw",
    change: "without qite's two indexes",
    tweak: without("qite_ready_idx", "qite_waiting_idx"),
  },
  { workload: "runner", change: "none" },
  { workload: "runner", change: "prefetch 100 (default 1000)", prefetch: 100 },
  {
    workload: "runner",
    change: "goqite's random ids (qite's are time-ordered)",
    tweak: (store): void =>
      store.db.exec("update goqite set id = 'm_' || lower(hex(randomblob(16)))"),
  },
  {
    workload: "runner",
    change: "wal_autocheckpoint 10000 (default 1000)",
    tweak: (store): void => store.db.exec("pragma wal_autocheckpoint = 10000"),
  },
];

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runs: { type: "string" },
    storage: { type: "string", default: "wal-normal" },
    smoke: { type: "boolean", default: false },
    only: { type: "string" },
  },
});
const only = values.only?.split(",");
const smoke = values.smoke === true;
const runs = values.runs === undefined ? (smoke ? 1 : 5) : Number(values.runs);
const storage = values.storage as StorageName;

/** The group of a lever: its own, else its workload's (the old path's is `single`'s). */
function groupOf(lever: Lever): string {
  return lever.group ?? lever.workload.replace(/-old-path$/, "");
}

const chosen = LEVERS.filter((lever) => only === undefined || only.includes(groupOf(lever)));
const samples = new Map<Lever, Sample[]>(chosen.map((lever) => [lever, []]));
const groups = [...new Set(chosen.map(groupOf))].map(
  (id) => chosen.filter((lever) => groupOf(lever) === id),
);
for (let run = 1; run <= runs; run++) {
  for (const group of groups) {
    console.error(`run ${run}/${runs} ${groupOf(group[0]!)}`);
    const measured = await measure(group.map((lever) => ({
      workload: KNOWN.find((candidate) => candidate.id === lever.workload)!,
      context: {
        storage,
        driver: undefined,
        smoke,
        ...(lever.tweak === undefined ? {} : { tweak: lever.tweak }),
        ...(lever.prefetch === undefined ? {} : { prefetch: lever.prefetch }),
      },
    })));
    group.forEach((lever, i) => samples.get(lever)!.push(measured[i]![1]));
  }
}

const runtime = runtimeInfo();
console.log(`\nqite levers: ${runtime.name} ${runtime.version}, ${storage}, medians of ${runs}\n`);
console.log(table(
  ["workload", "change", " units/s", " vs none"],
  chosen.map((lever) => {
    const mine = samples.get(lever)!;
    const none = [...samples].find(([other]) =>
      groupOf(other) === groupOf(lever) && other.change === "none"
    )![1];
    return [
      lever.workload,
      lever.change,
      rate(
        1 / median(mine.map((sample) =>
          sample.seconds
        )),
      ),
      `${figure(100 / ratio(mine, none))} %`,
    ];
  }),
));
