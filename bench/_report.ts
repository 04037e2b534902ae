/**
 * The results of `run.ts`, as its `--json` prints them, shared with `all.ts`.
 *
 * @module
 */

import type { Settings, StorageName } from "./_storage.ts";
import { figure } from "./_table.ts";

/** One row of results: a workload on a storage, medians over the runs. */
export interface Result extends Settings {
  readonly workload: string;
  readonly title: string;
  readonly storage: StorageName;
  readonly unit: string;
  /** Units per run. */
  readonly units: number;
  readonly runs: number;
  /** Units per second, median. */
  readonly perSecond: number;
  /** Microseconds per unit, median. */
  readonly microsPerUnit: number;
  /** Units per second, each run. */
  readonly samples: number[];
  /** The baseline compared with (a workload id), if it ran. */
  readonly versus?: string;
  /** Units/s as a percentage of the baseline's: the median of the runs' ratios. */
  readonly percent?: number;
  /** Time per unit as a multiple of the baseline's: the median of the runs' ratios. */
  readonly times?: number;
  /** Wake-up latency, ms: medians of the runs' percentiles. */
  readonly p50?: number;
  readonly p99?: number;
  /** For `cpu` workloads: the share of one core used, in percent (median of the runs). */
  readonly cpu?: number;
  readonly runtime: string;
  readonly runtimeVersion: string;
}

/** What `--json` prints. */
export interface Report {
  readonly runtime: string;
  readonly runtimeVersion: string;
  readonly smoke: boolean;
  readonly results: Result[];
}

/** The comparison column of a result. */
export function note(result: Result): string {
  if (result.percent !== undefined) return `${figure(result.percent)} % of ${result.versus}`;
  if (result.times !== undefined) return `${figure(result.times)}× ${result.versus}`;
  if (result.cpu !== undefined) return `${figure(result.cpu)} % of a core`;
  if (result.p50 !== undefined) {
    return `p50 ${figure(result.p50)} ms, p99 ${figure(result.p99 ?? Number.NaN)} ms`;
  }
  return "";
}
