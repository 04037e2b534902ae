/**
 * The notification channel of a PostgreSQL table depends on the table, not on how a queue names
 * it: a queue that finds `goqite` on its connection's `search_path` and one that names the schema
 * wake each other, in other processes too, and tables in different schemas do not share one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { PostgresQueue, QueueError } from "../postgres/mod.ts";
import type { PostgresDriverName } from "../postgres/mod.ts";
import { runtimeCommand, sleep, text } from "./_helpers.ts";
import { testClients, TestDatabase, wakeLatencies as inProcessLatencies } from "./_postgres.ts";

const CHILD = fileURLToPath(new URL("./_pg_child.ts", import.meta.url));

/** How a queue finds its table. */
type Naming = "named" | "path";

/** Another process that sends a message whenever it is told to (`_pg_child.ts sends`). */
class Sender {
  #proc;
  #lines: AsyncIterator<string>;
  #stderr = "";

  constructor(driver: PostgresDriverName, schema: string, naming: Naming) {
    const [exe, prefix] = runtimeCommand(CHILD);
    this.#proc = spawn(exe, [...prefix, driver, schema, "0", "sends", naming], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#proc.stderr.on("data", (chunk) => this.#stderr += chunk);
    this.#lines = createInterface({ input: this.#proc.stdout })[Symbol.asyncIterator]();
  }

  /** Sends one message, `after` ms from now; resolves once it is sent. */
  async send(after: number): Promise<void> {
    this.#proc.stdin.write(`${after}\n`);
    const line = await this.#lines.next();
    assert.equal(line.value, "sent", `the sender failed: ${this.#stderr}`);
  }

  /** Ends the process. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#proc.on("close", () => resolve()));
    this.#proc.stdin.end();
    return closed;
  }
}

/**
 * Times, in ms, from each send by `sender` to its receipt by a waiter on `waiter` that would only
 * poll every 5 s: sorted, one per round, the sends at different moments of the heartbeat.
 */
async function wakeLatencies(waiter: PostgresQueue, sender: Sender): Promise<number[]> {
  const latencies: number[] = [];
  for (let round = 0; round < 7; round++) {
    const waiting = waiter.receiveAndWait({
      interval: 5000,
      signal: AbortSignal.timeout(15_000),
    });
    const [message] = await Promise.all([waiting, sender.send(20 + round * 137)]);
    latencies.push(Date.now() - Number(text(message.body)));
    assert.equal(await waiter.delete(message), true);
  }
  return latencies.sort((a, b) => a - b);
}

/**
 * Without a notification, only the heartbeat (every second) would wake the waiter before its
 * interval: a median near 500 ms.
 */
function assertWokenByNotify(latencies: number[]): void {
  const median = latencies[3]!;
  assert.ok(median < 150, `wake-ups in ms: ${latencies.join(", ")}`);
}

for (const driver of testClients()) {
  test(`A waiter that finds the table on its search_path is woken by another process that names the schema [postgres ${driver}]`, async () => {
    const db = new TestDatabase(driver);
    // The waiter's search_path is the test's schema: its queue names none.
    const client = db.client({ connection: { search_path: `"${db.schema}"` } });
    const waiter = new PostgresQueue({ sql: client.sql, name: "q" });
    let sender: Sender | undefined;
    try {
      // Used before its table (and schema) exist: what it learnt then is not kept.
      await assert.rejects(
        waiter.send({ body: "too early" }),
        (error) => error instanceof QueueError && error.code === "NOT_SET_UP",
      );
      await db.setup();
      sender = new Sender(driver, db.schema, "named");
      assertWokenByNotify(await wakeLatencies(waiter, sender));
    } finally {
      await sender?.close();
      await waiter.close();
      await db.close();
    }
  });

  test(`A waiter that names the schema is woken by another process that finds the table on its search_path [postgres ${driver}]`, async () => {
    const db = new TestDatabase(driver);
    let sender: Sender | undefined;
    let waiter: PostgresQueue | undefined;
    try {
      await db.setup();
      waiter = new PostgresQueue({ sql: db.client().sql, schema: db.schema, name: "q" });
      sender = new Sender(driver, db.schema, "path");
      assertWokenByNotify(await wakeLatencies(waiter, sender));
    } finally {
      await sender?.close();
      await waiter?.close();
      await db.close();
    }
  });

  test(`A waiter on the search_path follows its table to the schema it is created in [postgres ${driver}]`, async () => {
    const first = new TestDatabase(driver);
    const second = new TestDatabase(driver);
    // Its search_path holds two schemas, and no table yet: `setup` would create it in the first.
    // (No space after the comma: Bun.sql's clients take it in the URL.)
    const client = first.client({
      connection: { search_path: `"${first.schema}","${second.schema}"` },
    });
    const waiter = new PostgresQueue({ sql: client.sql, name: "q" });
    let sender: Sender | undefined;
    try {
      await first.admin.exec(`create schema "${first.schema}"`);
      await assert.rejects(
        waiter.receiveAndWait({ interval: 5000 }),
        (error) => error instanceof QueueError && error.code === "NOT_SET_UP",
      );
      await sleep(200); // it subscribes meanwhile, where the table would be created
      await second.setup(); // but it is created in the second
      sender = new Sender(driver, second.schema, "named");
      assertWokenByNotify(await wakeLatencies(waiter, sender));
    } finally {
      await sender?.close();
      await waiter.close();
      await second.close();
      await first.close();
    }
  });

  test(`A send on the search_path inside a transaction on a one-connection client wakes a waiter that names the schema [postgres ${driver}]`, async () => {
    const db = new TestDatabase(driver);
    const queues: PostgresQueue[] = [];
    try {
      await db.setup();
      // The transaction holds the client's only connection: the channel is looked up in it.
      const client = db.client({ max: 1, connection: { search_path: `"${db.schema}"` } });
      const sender = new PostgresQueue({ sql: client.sql, name: "q" });
      const waiter = new PostgresQueue({ sql: db.client().sql, schema: db.schema, name: "q" });
      queues.push(sender, waiter);
      const waiting = waiter.receiveAndWait({
        interval: 5000,
        signal: AbortSignal.timeout(15_000),
      });
      await db.listening();
      const begin = (client.sql as { begin(fn: (tx: unknown) => Promise<void>): Promise<void> })
        .begin;
      let committed = 0;
      await begin.call(client.sql, async (tx) => {
        await sender.with(tx).send({ body: "in a transaction" });
      }).then(() => committed = performance.now());
      const message = await waiting;
      const latency = performance.now() - committed;
      assert.equal(text(message.body), "in a transaction");
      assert.ok(latency < 150, `woken ${latency.toFixed(0)} ms after the commit`);
    } finally {
      for (const queue of queues) await queue.close();
      await db.close();
    }
  });

  test(`Queues on one client, one on the search_path and one naming the schema, wake each other [postgres ${driver}]`, async () => {
    const db = new TestDatabase(driver);
    const queues: PostgresQueue[] = [];
    try {
      await db.setup();
      const client = db.client({ connection: { search_path: `"${db.schema}"` } });
      const onPath = new PostgresQueue({ sql: client.sql, name: "q" });
      const named = new PostgresQueue({ sql: client.sql, schema: db.schema, name: "q" });
      queues.push(onPath, named);
      for (const [waiter, sender] of [[onPath, named], [named, onPath]] as const) {
        const rounds = { rounds: 7, spacing: 137, interval: 5000, timeout: 15_000 };
        assertWokenByNotify(await inProcessLatencies(waiter, sender, rounds));
      }
    } finally {
      for (const queue of queues) await queue.close();
      await db.close();
    }
  });

  test(`Queues on search_paths of different schemas listen on different channels [postgres ${driver}]`, async () => {
    const first = new TestDatabase(driver);
    const second = new TestDatabase(driver);
    const queues: PostgresQueue[] = [];
    const waits: Promise<unknown>[] = [];
    const controller = new AbortController();
    try {
      await first.setup();
      await second.setup();
      for (const db of [first, second]) {
        const client = db.client({ connection: { search_path: `"${db.schema}"` } });
        const queue = new PostgresQueue({ sql: client.sql, name: "q" });
        queues.push(queue);
        waits.push(queue.receiveAndWait({ signal: controller.signal }).catch(() => undefined));
      }
      for (const db of [first, second]) {
        const queries = await db.listening();
        assert.equal(queries.length, 1, `one listening connection for ${db.schema}`);
        assert.match(queries[0]!, new RegExp(`"qite\\.${db.schema}"`));
      }
    } finally {
      controller.abort();
      await Promise.all(waits);
      for (const queue of queues) await queue.close();
      await second.close();
      await first.close();
    }
  });
}
