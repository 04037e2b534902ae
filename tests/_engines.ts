/**
 * The behavioural suite's harness, in the manner of goqite's `internal/testing.Run`: a case
 * written with {@linkcode eachEngine} runs once per engine and driver this runtime offers, each
 * on a fresh database, so that the engines cannot drift apart.
 *
 * - SQLite: every driver of {@linkcode eachDriver}, on a fresh file.
 * - PostgreSQL: postgres.js (Deno, Bun, Node) and Bun.sql (Bun), each case in a fresh schema of
 *   the test server, dropped afterwards (see `_postgres.ts`).
 *
 * @module
 */

import { test } from "node:test";
import type { MessageId, QueueLike, SendMessage } from "../mod.ts";
import { Queue } from "../mod.ts";
import { PostgresQueue } from "../postgres/mod.ts";
import { eachDriver, FakeClock } from "./_helpers.ts";
import { type TestClient, testClients, TestDatabase } from "./_postgres.ts";

/** The settings a case may give its queues. */
export interface EngineQueueOptions {
  /** The queue's name. @default "q" */
  name?: string;
  timeout?: number;
  maxReceive?: number;
  maxBodySize?: number;
  /** Whether the queue reads the case's fake clock (default) or the real one (the server's). */
  fakeClock?: boolean;
  /**
   * Whether the queue gets a connection (PostgreSQL: a client) of its own, as another process
   * would have, rather than the case's first one.
   *
   * @default {false}
   */
  separate?: boolean;
}

/** A queue of either engine: both return the id of what they send. */
export type EngineQueue = { send(message: SendMessage): Promise<MessageId> } & QueueLike;

/** What each case gets. */
export interface EngineContext {
  /** `"sqlite"` or `"postgres"`. */
  readonly engine: "sqlite" | "postgres";
  /** The driver under test, e.g. `"node:sqlite"` or `"postgres.js"`. */
  readonly driver: string;
  /** The fake clock the queues read unless told otherwise. */
  readonly clock: FakeClock;
  /** A queue on the case's database, closed after the case. */
  queue(options?: EngineQueueOptions): EngineQueue;
  /** How many rows the `goqite` table holds, in every queue. */
  count(): Promise<number>;
  /** Runs SQL on the case's table (`goqite` names it on both engines); returns the rows. */
  sql(text: string): Promise<Record<string, unknown>[]>;
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
  eachDriver(`${title} [sqlite]`, async ({ driver, db, connect, clock }) => {
    const queues: Queue[] = [];
    try {
      await fn({
        engine: "sqlite",
        driver,
        clock,
        queue: (options = {}) => {
          const { name = "q", fakeClock = true, separate = false, ...rest } = options;
          const queue = new Queue({
            db: separate ? connect() : db,
            name,
            ...rest,
            ...(fakeClock ? { clock: clock.fn } : {}),
          });
          queues.push(queue);
          return queue;
        },
        count: () =>
          Promise.resolve(Number(db.prepare("select count(*) as n from goqite").get()?.n)),
        sql: (text) => Promise.resolve(db.prepare(text).all()),
      });
    } finally {
      for (const queue of queues) await queue.close();
    }
  });
  for (const driver of testClients()) {
    test(`${title} [postgres ${driver}]`, async () => {
      const database = new TestDatabase(driver);
      const queues: PostgresQueue[] = [];
      const clock = new FakeClock();
      try {
        await database.setup();
        let first: TestClient | undefined;
        await fn({
          engine: "postgres",
          driver,
          clock,
          queue: (options = {}) => {
            const { name = "q", fakeClock = true, separate = false, ...rest } = options;
            const client = separate || first === undefined ? database.client() : first;
            first ??= client;
            const queue = new PostgresQueue({
              sql: client.sql,
              schema: database.schema,
              name,
              ...rest,
              ...(fakeClock ? { clock: clock.fn } : {}),
            });
            queues.push(queue);
            return queue;
          },
          count: () => database.count(),
          sql: (text) => database.admin.exec(text),
        });
      } finally {
        for (const queue of queues) await queue.close();
        await database.close();
      }
    });
  }
}

export { FakeClock };
