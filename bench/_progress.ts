/**
 * Progress on standard error for long runs: which step (storage, run, workloads) is starting,
 * and an estimate of the time left.
 *
 * A step's duration is estimated by the same step's earlier runs in this invocation, or else by
 * its last duration in an earlier invocation (kept in a small file in the temporary directory);
 * while some step has neither, the estimate is a lower bound (`≥`). `all.ts` passes, in
 * `QITE_BENCH_PROGRESS`, which runtime of how many this is and its estimate for the runtimes
 * after it (`2/3 bun;later=310`, in seconds, or `NaN` when it has none), so that the time left
 * covers the whole invocation.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** One step of a run: its key (what makes its duration) and what to print. */
export interface Step {
  /** The same for every run of the same work, e.g. `wal-normal single,raw`. */
  readonly key: string;
  /** What it is, e.g. `wal-normal run 2/5: goqite-raw, raw, single`. */
  readonly label: string;
}

const CACHE = join(tmpdir(), "qite-bench-timings.json");

/** The durations kept by earlier invocations, in seconds, by key. */
export function readTimings(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(CACHE, "utf8"));
  } catch {
    return {}; // A first run, or an unreadable file: start afresh.
  }
}

/** Adds `timings` to the kept durations; a failure to write only loses an estimate. */
export function keepTimings(timings: Record<string, number>): void {
  try {
    writeFileSync(CACHE, JSON.stringify({ ...readTimings(), ...timings }));
  } catch {
    // Only an estimate is lost.
  }
}

/** `1m 05s`, `42s`. */
export function duration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  const rest = String(whole % 60).padStart(minutes > 0 ? 2 : 1, "0");
  return minutes > 0 ? `${minutes}m ${rest}s` : `${rest}s`;
}

/** Reports the steps of a plan as they start, with the time left. */
export class Progress {
  readonly #steps: readonly Step[];
  readonly #prefix: string;
  readonly #later: number;
  readonly #scope: string;
  readonly #measured = new Map<string, number[]>();
  readonly #cached: Record<string, number>;
  #started = 0;

  /**
   * @param scope What keys are cached under besides the step (runtime, version, options).
   * @param steps The whole plan, in order.
   */
  constructor(scope: string, steps: readonly Step[]) {
    this.#scope = scope;
    this.#steps = steps;
    const [where = "", later = "0"] = (process.env.QITE_BENCH_PROGRESS ?? "").split(";later=");
    this.#prefix = where === "" ? "" : `[${where}] `;
    this.#later = Number(later);
    this.#cached = readTimings();
  }

  /** Prints that step `index` starts, and the time left including it. */
  start(index: number): void {
    this.#started = performance.now();
    let left = Number.isNaN(this.#later) ? 0 : this.#later;
    let known = !Number.isNaN(this.#later);
    for (const step of this.#steps.slice(index)) {
      const estimate = this.#estimate(step.key);
      if (estimate === undefined) known = false;
      else left += estimate;
    }
    const step = this.#steps[index]!;
    const estimate = left === 0 && !known
      ? "time left unknown yet"
      : `${known ? "~" : "≥ "}${duration(left)} left`;
    console.error(
      `${this.#prefix}${step.label} · step ${index + 1}/${this.#steps.length} · ${estimate}`,
    );
  }

  /** Records how long step `index` took (since `start`). */
  finish(index: number): void {
    const seconds = (performance.now() - this.#started) / 1000;
    const key = this.#steps[index]!.key;
    this.#measured.set(key, [...this.#measured.get(key) ?? [], seconds]);
  }

  /** Keeps this invocation's durations for the next one; a failure to write is ignored. */
  save(): void {
    keepTimings(Object.fromEntries(
      [...this.#measured].map((
        [key, seconds],
      ) => [`${this.#scope} ${key}`, seconds.reduce((a, b) => a + b, 0) / seconds.length]),
    ));
  }

  #estimate(key: string): number | undefined {
    const seen = this.#measured.get(key);
    if (seen !== undefined) return seen.reduce((a, b) => a + b, 0) / seen.length;
    return this.#cached[`${this.#scope} ${key}`];
  }
}
