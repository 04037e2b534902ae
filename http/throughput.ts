/**
 * Counting a server's queue operations per second, in memory: what the handler reports through
 * its `onOperation` hook, kept as a short history per queue for the dashboard's sparklines.
 *
 * @module
 */

import { checkInteger, show } from "../src/_validate.ts";

/** An operation the handler (or the dashboard) counts. */
export type Operation = "send" | "receive" | "delete";

/** What the `onOperation` hook is told after an operation succeeds. */
export interface OperationEvent {
  /** The queue's name. */
  readonly queue: string;
  /** What happened. */
  readonly operation: Operation;
  /** How many messages: sent, received, or deleted (those that applied). At least 1. */
  readonly count: number;
}

/** Options for {@linkcode Throughput}. */
export interface ThroughputOptions {
  /**
   * How many seconds of history to keep per queue.
   *
   * @default {120}
   */
  seconds?: number;
  /**
   * The most queues to keep; beyond it, the queue recorded least recently is forgotten.
   *
   * @default {1000}
   */
  maxQueues?: number;
  /** The time in milliseconds since the epoch; `Date.now` by default. */
  clock?: () => number;
}

/** One queue's counts per second, oldest first, for the seconds that have ended. */
export interface ThroughputSeries {
  /** Messages sent in each second. */
  readonly send: number[];
  /** Messages received in each second. */
  readonly receive: number[];
  /** Messages deleted in each second. */
  readonly delete: number[];
  /** Messages sent, received and deleted since the counter started (or first saw the queue). */
  readonly totals: Readonly<Record<Operation, number>>;
}

const OPERATIONS: readonly Operation[] = ["send", "receive", "delete"];

/** A queue's ring of per-second buckets. */
interface Ring {
  /** One bucket array per operation, indexed by `second % (seconds + 1)`: the window and the
   * second still counting. */
  readonly buckets: Record<Operation, Float64Array>;
  readonly totals: Record<Operation, number>;
  /** The second (since the epoch) of the newest bucket written or cleared. */
  second: number;
}

/**
 * Counts sends, receives and deletes per queue and per second, in memory, for a bounded window
 * (two minutes by default) and a bounded number of queues. Hand its `record` to the handler's or
 * router's `onOperation` option and the same object to the dashboard, which draws its series as
 * sparklines.
 *
 * @example Counting what a handler does
 * ```ts
 * import { open, Queue, setup } from "@qite/qite";
 * import { createHandler, Throughput } from "@qite/qite/http";
 * import assert from "node:assert/strict";
 *
 * let now = Date.parse("2026-01-01T00:00:00Z");
 * const throughput = new Throughput({ seconds: 3, clock: () => now });
 * using db = open(":memory:");
 * setup(db);
 * const handler = createHandler(new Queue({ db, name: "emails" }), {
 *   onOperation: throughput.record,
 * });
 * const body = JSON.stringify({ Messages: [{ Body: btoa("a") }, { Body: btoa("b") }] });
 * await handler(new Request("http://x/", { method: "POST", body }));
 * now += 1000;
 *
 * const series = throughput.series("emails");
 * assert.deepEqual(series.send, [0, 0, 2]); // the last three whole seconds, oldest first
 * assert.equal(series.totals.send, 2);
 * ```
 */
export class Throughput {
  /**
   * Records an operation. A bound function: pass it as `onOperation` as it is.
   *
   * @param event The queue, the operation and how many messages.
   */
  readonly record: (event: OperationEvent) => void;
  readonly #seconds: number;
  readonly #maxQueues: number;
  readonly #clock: () => number;
  readonly #rings = new Map<string, Ring>();

  /**
   * Creates an empty counter.
   *
   * @param options The window, the queue limit and a clock.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RangeError} If `seconds` or `maxQueues` is out of range.
   */
  constructor(options: ThroughputOptions = {}) {
    const action = "create throughput";
    const { seconds = 120, maxQueues = 1000, clock = Date.now } = options ?? {};
    checkInteger(action, "seconds", seconds, 1, 86_400);
    checkInteger(action, "maxQueues", maxQueues, 1);
    if (typeof clock !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'clock' must be a function: current value is ${show(clock)}`,
      );
    }
    this.#seconds = seconds;
    this.#maxQueues = maxQueues;
    this.#clock = clock;
    this.record = (event: OperationEvent): void => this.#record(event);
  }

  /** How many seconds of history each series holds. */
  get seconds(): number {
    return this.#seconds;
  }

  /**
   * The counts of one queue for the last `seconds` whole seconds (the current second is still
   * counting and not included), oldest first; zeros for a queue never recorded.
   *
   * @param queue The queue's name.
   * @returns The series and the totals.
   */
  series(queue: string): ThroughputSeries {
    const now = this.#now();
    const ring = this.#rings.get(queue);
    const empty = (): number[] => new Array(this.#seconds).fill(0);
    if (ring === undefined) {
      return { send: empty(), receive: empty(), delete: empty(), totals: zeroTotals() };
    }
    this.#advance(ring, now);
    const read = (operation: Operation): number[] => {
      const buckets = ring.buckets[operation];
      const out = empty();
      for (let i = 0; i < this.#seconds; i++) {
        out[i] = buckets[mod(now - this.#seconds + i, this.#seconds + 1)]!;
      }
      return out;
    };
    return {
      send: read("send"),
      receive: read("receive"),
      delete: read("delete"),
      totals: { ...ring.totals },
    };
  }

  #record(event: OperationEvent): void {
    const { queue, operation, count } = event ?? {};
    if (typeof queue !== "string" || !OPERATIONS.includes(operation)) return;
    if (!(typeof count === "number" && count > 0 && Number.isFinite(count))) return;
    const now = this.#now();
    let ring = this.#rings.get(queue);
    if (ring === undefined) {
      if (this.#rings.size >= this.#maxQueues) {
        this.#rings.delete(this.#rings.keys().next().value!);
      }
      const buckets = {} as Record<Operation, Float64Array>;
      for (const op of OPERATIONS) buckets[op] = new Float64Array(this.#seconds + 1);
      ring = { buckets, totals: zeroTotals(), second: now };
    } else {
      // Most recently recorded last, so the first key is the one to forget.
      this.#rings.delete(queue);
    }
    this.#rings.set(queue, ring);
    this.#advance(ring, now);
    ring.buckets[operation][mod(now, this.#seconds + 1)]! += count;
    ring.totals[operation] += count;
  }

  /** Clears the buckets of the seconds between the ring's newest and `now`. */
  #advance(ring: Ring, now: number): void {
    if (now <= ring.second) return;
    const size = this.#seconds + 1;
    const stale = Math.min(now - ring.second, size);
    for (let i = 1; i <= stale; i++) {
      const at = mod(ring.second + i, size);
      for (const op of OPERATIONS) ring.buckets[op][at] = 0;
    }
    ring.second = now;
  }

  /** The current second since the epoch. */
  #now(): number {
    return Math.floor(this.#clock() / 1000);
  }
}

function zeroTotals(): Record<Operation, number> {
  return { send: 0, receive: 0, delete: 0 };
}

function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}
