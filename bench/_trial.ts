/**
 * One timed trial of a workload, and the comparison of two workloads' trials run by turns.
 *
 * @module
 */

import { median } from "./_stats.ts";
import { type Settings, settingsOf } from "./_storage.ts";
import { type Context, unitsOf, type Workload } from "./_workloads.ts";

/** What one trial measured. */
export interface Sample {
  /** Seconds per unit. */
  readonly seconds: number;
  /** The wake-up latencies, in ms (empty for other workloads). */
  readonly latencies: number[];
}

/** Prepares, times and closes one trial; returns the settings it saw and the sample. */
export async function trial(workload: Workload, context: Context): Promise<[Settings, Sample]> {
  const prepared = await workload.prepare(context, unitsOf(workload, context));
  const settings = settingsOf(prepared.store.db);
  const started = performance.now();
  const latencies = await prepared.run();
  const seconds = (performance.now() - started) / 1000;
  await prepared.close();
  return [settings, { seconds: seconds / prepared.units, latencies: latencies ?? [] }];
}

/** The median over the runs of `a`'s time per unit divided by `b`'s. */
export function ratio(a: readonly Sample[], b: readonly Sample[]): number {
  return median(a.map((sample, i) => sample.seconds / b[i]!.seconds));
}
