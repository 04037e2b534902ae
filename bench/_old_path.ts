/**
 * The single-message workload through the Queue's old path, for `levers.ts`: each operation one
 * synchronous statement wrapped in a resolved promise, the receive in autocommit mode with the
 * clock read before its statement, and SQLite's own blocking busy handler (5000 ms) instead of
 * qite's non-blocking lock handling. It is what `Queue` did before; the lever shows what the
 * new path costs when nothing contends.
 *
 * @module
 */

import { QueueOps } from "../src/sqlite/_ops.ts";
import { internals } from "../src/sqlite/database.ts";
import { openStore } from "./_storage.ts";
import { type Trial, type Workload, WORKLOADS } from "./_workloads.ts";

const single = WORKLOADS.find((workload) => workload.id === "single")!;
const BODY = new TextEncoder().encode("yo");

/** `single`, through the old path. */
export const oldPath: Workload = {
  ...single,
  id: "single-old-path",
  title: "send+receive+delete, Queue's old path",
  prepare(context, units): Promise<Trial> {
    const store = openStore(context.storage, context.driver);
    internals(store.db).statement("pragma busy_timeout = 5000").get();
    const ops = new QueueOps(store.db, {
      name: "bench",
      timeout: 5000,
      maxReceive: 3,
      maxBodySize: 1 << 26,
      clock: Date.now,
    });
    const trial = {
      units,
      store,
      async run(count: number): Promise<void> {
        for (let i = 0; i < count; i++) {
          await Promise.resolve(ops.send([[BODY, 0, 0]]));
          const [message] = await Promise.resolve(ops.receive(1));
          await Promise.resolve(ops.delete([message!]));
        }
      },
      close(): Promise<void> {
        store.close();
        return Promise.resolve();
      },
    };
    return Promise.resolve(trial);
  },
};
