/**
 * The behavioural suite's harness, in the manner of goqite's `internal/testing.Run`: a case
 * written with {@linkcode eachEngine} runs once per engine and driver this runtime offers, each
 * on a fresh database, so that the engines cannot drift apart.
 *
 * SQLite: every driver of {@linkcode eachDriver}. (PostgreSQL joins here.)
 *
 * @module
 */

import type { QueueLike } from "../mod.ts";
import { Queue } from "../mod.ts";
import { eachDriver, FakeClock } from "./_helpers.ts";

/** The settings a case may give its queues. */
export interface EngineQueueOptions {
  /** The queue's name. @default "q" */
  name?: string;
  timeout?: number;
  maxReceive?: number;
  /** Whether the queue reads the case's fake clock (default) or the real one. */
  fakeClock?: boolean;
}

/** What each case gets. */
export interface EngineContext {
  /** `"sqlite"` or `"postgres"`. */
  readonly engine: "sqlite" | "postgres";
  /** The driver under test, e.g. `"node:sqlite"`. */
  readonly driver: string;
  /** The fake clock the queues read unless told otherwise. */
  readonly clock: FakeClock;
  /**
   * A queue on the case's database (every call is another connection, as another consumer or
   * process would have), closed after the case.
   */
  queue(options?: EngineQueueOptions): QueueLike;
}

/**
 * Declares one test per engine and driver, named `${title} [engine driver]`.
 *
 * @param title The behaviour, as a sentence.
 * @param fn The test body.
 */
export function eachEngine(
  title: string,
  fn: (context: EngineContext) => void | Promise<void>,
): void {
  eachDriver(`${title} [sqlite]`, async ({ driver, connect, clock }) => {
    const queues: Queue[] = [];
    await fn({
      engine: "sqlite",
      driver,
      clock,
      queue: (options = {}) => {
        const { name = "q", fakeClock = true, ...rest } = options;
        const queue = new Queue({
          db: connect(),
          name,
          ...rest,
          ...(fakeClock ? { clock: clock.fn } : {}),
        });
        queues.push(queue);
        return queue;
      },
    });
    for (const queue of queues) await queue.close();
  });
}

export { FakeClock };
