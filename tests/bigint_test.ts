/**
 * Rows written by other programs: Go writes 64-bit integers, beyond what a JavaScript number
 * holds exactly. Such rows are delivered, exactly, and nothing is burnt by a read error.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Queue, QueueError } from "../mod.ts";
import { createClient, createHandler } from "../http/mod.ts";
import { faults } from "./_db_sqlite_standin.ts";
import { loadBunSqlite, loadNodeSqlite } from "../src/runtime/detect.ts";
import { eachDriver, text } from "./_helpers.ts";

const BIG = 2n ** 60n + 1n;
const body = new TextEncoder().encode("from go");

eachDriver("A priority beyond 2^53 is received exactly, as a bigint, in priority order", async (
  { db },
) => {
  const queue = new Queue({ db, name: "q" });
  await queue.send({ body: "ordinary", priority: 5 });
  db.prepare("insert into goqite (id, queue, body, priority) values (?, 'q', ?, ?)")
    .run("m_big", body, BIG);
  db.prepare("insert into goqite (id, queue, body, priority) values (?, 'q', ?, ?)")
    .run("m_low", body, -(2n ** 62n));
  const peeked = await queue.peek();
  assert.deepEqual(peeked.map((m) => m.priority), [BIG, 5, -(2n ** 62n)]);
  const messages = await queue.receiveBatch(3);
  assert.deepEqual(messages.map((m) => m.id), ["m_big", messages[1]!.id, "m_low"]);
  assert.equal(messages[0]!.priority, BIG);
  assert.equal(typeof messages[1]!.priority, "number");
  assert.equal(text(messages[0]!.body), "from go");
  assert.equal(await queue.delete(messages[0]!), true);
});

eachDriver("A row whose rowid is beyond 2^53 is received, listed when dead, and redriven", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", maxReceive: 1, timeout: 10, clock: clock.fn });
  db.prepare(
    "insert into goqite (rowid, id, queue, body, priority, created, timeout) " +
      "values (?, 'm_far', 'q', ?, ?, ?, ?)",
  ).run(2n ** 62n, body, BIG, new Date(clock.now).toISOString(), new Date(clock.now).toISOString());
  const message = await queue.receive();
  assert.equal(message?.id, "m_far");
  clock.advance(10);
  const dead = await queue.listDead();
  assert.deepEqual(dead.messages.map((m) => [m.id, m.priority]), [["m_far", BIG]]);
  assert.equal(await queue.redrive("m_far"), 1);
  assert.equal((await queue.receive())?.priority, BIG);
});

eachDriver("The HTTP handler and client carry a priority beyond 2^53 exactly", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const client = createClient("http://queue.test/", { fetch: createHandler(queue) });
  await client.send({ body: "big", priority: BIG });
  const raw = db.prepare("select cast(priority as text) as p from goqite").get();
  assert.equal(raw?.p, String(BIG));
  const message = await client.receive();
  assert.equal(message?.priority, BIG);
});

eachDriver("A read error after a receive's update rolls it back: the message is not burnt", async (
  { db },
) => {
  const queue = new Queue({ db, name: "q", maxReceive: 1 });
  await queue.send({ body: "precious" });
  faults.failReadsOf = /^update goqite set timeout/;
  try {
    const error = await queue.receive().catch((e: unknown) => e);
    assert.ok(error instanceof QueueError, String(error));
    assert.ok(error.cause instanceof Error);
  } finally {
    faults.failReadsOf = undefined;
  }
  const row = db.prepare("select received from goqite").get();
  assert.equal(row?.received, 0, "the receive was rolled back");
  assert.equal(text((await queue.receive())!.body), "precious");
}, ["@db/sqlite"]); // the stand-in injects the fault

eachDriver(
  "Every driver error reaches callers as a QueueError with its cause",
  ({ db }) => {
    // node:sqlite throws a RangeError of its own for an integer it cannot read as a number
    // (bun:sqlite rounds it instead).
    assert.throws(
      () => db.prepare("select 9223372036854775807 as v").get(),
      (error) => error instanceof QueueError && error.cause instanceof RangeError,
    );
  },
  ["node:sqlite"],
);

eachDriver(
  "A handle opened to read every integer as a bigint gives small priorities as numbers, large ones as bigints",
  async ({ driver, path }) => {
    // The caller's own handle: node:sqlite's readBigInts, bun:sqlite's safeIntegers.
    const handle = driver === "bun:sqlite"
      ? new (loadBunSqlite()!.Database)(path, { safeIntegers: true } as never)
      : new (loadNodeSqlite()!.DatabaseSync)(path, { readBigInts: true } as never);
    const queue = new Queue({ db: handle, name: "big-reads" });
    try {
      await queue.sendBatch([{ body: "small", priority: 7 }, { body: "huge", priority: BIG }]);
      const [huge, small] = await queue.peek({ limit: 2 });
      assert.equal(huge!.priority, BIG);
      assert.equal(small!.priority, 7);
      const received = await queue.receiveBatch(2);
      assert.deepEqual(received.map((m) => m.priority), [BIG, 7]);
      assert.equal(typeof received[0]!.received, "number");
    } finally {
      await queue.close();
      (handle as { close(): void }).close();
    }
  },
);
