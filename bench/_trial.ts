/**
 * Timing trials. The workloads compared with each other (a group) take turns: their trials are
 * prepared together, then run a tenth at a time, one after the other (forwards, then
 * backwards), so that a baseline and what is compared with it see the same moments of a
 * shared, noisy machine.
 *
 * @module
 */

import { median } from "./_stats.ts";
import { type Settings, settingsOf } from "./_storage.ts";
import { type Context, type Trial, unitsOf, type Workload } from "./_workloads.ts";

/** What one trial measured. */
export interface Sample {
  /** Seconds per unit. */
  readonly seconds: number;
  /** The wake-up latencies, in ms (empty for other workloads). */
  readonly latencies: number[];
  /** What the trial counted (see `Trial.counters`), per unit. */
  readonly counters?: Record<string, number>;
}

/** A workload and what it runs with. */
export interface Entry {
  readonly workload: Workload;
  readonly context: Context;
}

/** How many parts a trial is run in, when its whole group can be run in parts. */
const PARTS = 10;

/**
 * Prepares one trial of each entry, runs them by turns, closes them, and returns the settings
 * each saw and its sample, in the order of `entries`.
 */
export async function measure(entries: readonly Entry[]): Promise<[Settings, Sample][]> {
  const trials: Trial[] = [];
  try {
    for (const { workload, context } of entries) {
      trials.push(await workload.prepare(context, unitsOf(workload, context)));
    }
    const parts = entries.some(({ workload, context }) => workload.whole || context.smoke)
      ? 1
      : PARTS;
    const seconds = trials.map(() => 0);
    const latencies = trials.map((): number[] => []);
    for (let part = 0; part < parts; part++) {
      const order = trials.map((_, i) => i);
      for (const i of part % 2 === 0 ? order : order.reverse()) {
        const trial = trials[i]!;
        const count = Math.floor(trial.units * (part + 1) / parts) -
          Math.floor(trial.units * part / parts);
        const started = performance.now();
        const measured = await trial.run(count);
        seconds[i]! += (performance.now() - started) / 1000;
        if (measured) latencies[i]!.push(...measured);
      }
    }
    const settings = trials.map((trial) => settingsOf(trial.store.db));
    return trials.map((trial, i) => {
      const counted = trial.counters?.();
      const sample: Sample = {
        seconds: seconds[i]! / trial.units,
        latencies: latencies[i]!,
        ...counted === undefined ? {} : {
          counters: Object.fromEntries(
            Object.entries(counted).map(([name, total]) => [name, total / trial.units]),
          ),
        },
      };
      return [settings[i]!, sample];
    });
  } finally {
    for (const trial of trials) await trial.close();
  }
}

/** The median over the runs of `a`'s time per unit divided by `b`'s. */
export function ratio(a: readonly Sample[], b: readonly Sample[]): number {
  return median(a.map((sample, i) => sample.seconds / b[i]!.seconds));
}

/**
 * The baselines of `group`'s workloads that belong to another group (the `http` workload is
 * compared with `single`): they are measured again inside the group, by turns with what is
 * compared with them, so that every ratio is taken within one run.
 */
export function companionsOf(group: readonly Workload[], all: readonly Workload[]): Workload[] {
  const ids = new Set(group.map((workload) => workload.versus?.id));
  return all.filter((workload) => ids.has(workload.id) && !group.includes(workload));
}
