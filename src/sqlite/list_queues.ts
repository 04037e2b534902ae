/**
 * The names of the queues in a database.
 *
 * @module
 */

import { Database, type SqliteHandle } from "./database.ts";
import { toQueueError } from "../runtime/_errors.ts";

/**
 * Lists the names of the queues that have at least one message in the `goqite` table, sorted.
 * It seeks from name to name on goqite's index, so it costs one index lookup per queue, not
 * one per message.
 *
 * @param db A {@linkcode Database} or a driver handle.
 * @returns The queue names.
 * @throws {QueueError} If SQLite fails (for example `NOT_SET_UP`).
 *
 * @example Listing queues
 * ```ts
 * import { listQueues, open, Queue, setup } from "@qite/qite";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * setup(db);
 * await new Queue({ db, name: "emails" }).send({ body: "x" });
 * await new Queue({ db, name: "reports" }).send({ body: "y" });
 * assert.deepEqual(await listQueues(db), ["emails", "reports"]);
 * ```
 */
export function listQueues(db: Database | SqliteHandle): Promise<string[]> {
  try {
    const next = Database.from(db).prepare(
      "select queue from goqite where queue > cast(? as text) order by queue limit 1",
    );
    const names: string[] = [];
    for (let row = next.get(""); row !== undefined; row = next.get(names[names.length - 1]!)) {
      names.push(row.queue as string);
    }
    return Promise.resolve(names);
  } catch (error) {
    return Promise.reject(toQueueError(error, "list queues"));
  }
}
