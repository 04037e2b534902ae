import assert from "node:assert/strict";
import { Queue, QueueError } from "../mod.ts";
import { roomOf } from "../src/sqlite/_wake.ts";
import { eachDriver, openWith, sleep, text } from "./_helpers.ts";
import { eachEngine } from "./_engines.ts";

eachEngine("Queue.send() returns an id of 'm_' and 32 lowercase hex digits", async ({ queue }) => {
  const q = queue({ name: "q" });
  const ids = new Set<string>();
  for (let i = 0; i < 50; i++) ids.add(await q.send({ body: "x" }));
  assert.equal(ids.size, 50);
  for (const id of ids) assert.match(id, /^m_[0-9a-f]{32}$/);
});

eachEngine("Queue.send() makes ids that sort in the order they were made", async ({ queue }) => {
  const q = queue({ name: "q" });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(await q.send({ body: "x" }));
    await sleep(2);
  }
  assert.deepEqual(ids.toSorted(), ids);
});

eachEngine("Queue.receive() returns a sent message with its bytes", async ({ queue }) => {
  const q = queue({ name: "q" });
  const body = new Uint8Array([0, 1, 2, 255, 254, 0]);
  const id = await q.send({ body });
  const message = await q.receive();
  assert.ok(message);
  assert.equal(message.id, id);
  assert.ok(message.body instanceof Uint8Array);
  assert.deepEqual([...message.body], [...body]);
  assert.equal(message.received, 1);
  assert.equal(message.priority, 0);
});

eachEngine("Queue.send() stores a string body as UTF-8 bytes", async ({ queue }) => {
  const q = queue({ name: "q" });
  await q.send({ body: "héllo ✓" });
  const message = await q.receive();
  assert.ok(message);
  assert.deepEqual([...message.body], [...new TextEncoder().encode("héllo ✓")]);
  assert.equal(text(message.body), "héllo ✓");
});

eachEngine("Queue.send() accepts an empty body", async ({ queue }) => {
  const q = queue({ name: "q" });
  await q.send({ body: new Uint8Array(0) });
  const message = await q.receive();
  assert.equal(message?.body.length, 0);
});

eachEngine("Queue.receive() returns undefined when the queue is empty", async ({ queue }) => {
  const q = queue({ name: "q" });
  assert.equal(await q.receive(), undefined);
});

eachEngine("Queue.receive() does not return a delayed message before its delay", async (
  { queue, clock },
) => {
  const q = queue({ name: "q" });
  await q.send({ body: "later", delay: 1000 });
  assert.equal(await q.receive(), undefined);
  clock.advance(999);
  assert.equal(await q.receive(), undefined);
  clock.advance(1);
  assert.equal(text((await q.receive())!.body), "later");
});

eachEngine("Queue.receive() does not return the same message twice in a row", async ({ queue }) => {
  const q = queue({ name: "q" });
  await q.send({ body: "once" });
  assert.ok(await q.receive());
  assert.equal(await q.receive(), undefined);
});

eachEngine(
  "Queue.receive() returns a message again after its timeout, up to maxReceive times, never after",
  async ({ queue, clock, sql }) => {
    const q = queue({ name: "q", timeout: 100, maxReceive: 3 });
    const id = await q.send({ body: "retry" });
    for (let i = 1; i <= 3; i++) {
      const message = await q.receive();
      assert.equal(message?.id, id);
      assert.equal(message?.received, i);
      clock.advance(99);
      assert.equal(await q.receive(), undefined, "hidden inside the timeout");
      clock.advance(1);
    }
    assert.equal(await q.receive(), undefined, "dead after maxReceive receives");
    clock.advance(1_000_000);
    assert.equal(await q.receive(), undefined);
    const [row] = await sql(`select received from goqite where id = '${id}'`);
    assert.equal(Number(row?.received), 3, "a dead message stays in the table");
  },
);

eachEngine("Queue.receive() returns higher priority first, then oldest first", async (
  { queue, clock },
) => {
  const q = queue({ name: "q" });
  const send = async (body: string, priority: number): Promise<void> => {
    await q.send({ body, priority });
    clock.advance(1);
  };
  await send("low-1", -1);
  await send("mid-1", 0);
  await send("high-1", 10);
  await send("mid-2", 0);
  await send("high-2", 10);
  await send("low-2", -1);
  const order: string[] = [];
  for (let message = await q.receive(); message; message = await q.receive()) {
    order.push(text(message.body));
  }
  assert.deepEqual(order, ["high-1", "high-2", "mid-1", "mid-2", "low-1", "low-2"]);
});

eachEngine("Queue.receive() keeps send order for messages sent in the same millisecond", async (
  { queue },
) => {
  const q = queue({ name: "q" });
  for (let i = 0; i < 20; i++) await q.send({ body: String(i) });
  const order: string[] = [];
  for (let message = await q.receive(); message; message = await q.receive()) {
    order.push(text(message.body));
  }
  assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => String(i)));
});

eachEngine("Queue.receive() orders a due delayed message by its creation time", async (
  { queue, clock },
) => {
  const q = queue({ name: "q" });
  await q.send({ body: "delayed, sent first", delay: 10 });
  clock.advance(1);
  await q.send({ body: "sent second" });
  clock.advance(10);
  assert.equal(text((await q.receive())!.body), "delayed, sent first");
  assert.equal(text((await q.receive())!.body), "sent second");
});

eachEngine("Queues with different names do not see each other's messages", async ({ queue }) => {
  const a = queue({ name: "a" });
  const b = queue({ name: "b" });
  const id = await a.send({ body: "for a" });
  assert.equal(await b.receive(), undefined);
  assert.equal(await b.delete(id), false);
  assert.equal(await b.extend(id, 1000), false);
  assert.equal((await a.receive())?.id, id);
});

eachEngine("Queue.extend() hides a received message for the given delay", async (
  { queue, clock },
) => {
  const q = queue({ name: "q", timeout: 100 });
  await q.send({ body: "long job" });
  const message = await q.receive();
  assert.ok(message);
  assert.equal(await q.extend(message, 1000), true);
  clock.advance(999);
  assert.equal(await q.receive(), undefined);
  clock.advance(1);
  assert.equal((await q.receive())?.id, message.id);
});

eachEngine("Queue.extend() by id hides a message that was never received", async (
  { queue, clock },
) => {
  const q = queue({ name: "q" });
  const id = await q.send({ body: "x" });
  assert.equal(await q.extend(id, 500), true);
  assert.equal(await q.receive(), undefined);
  clock.advance(500);
  assert.equal((await q.receive())?.id, id);
});

eachEngine("Queue.delete() removes a message for good", async ({ queue, clock, count }) => {
  const q = queue({ name: "q", timeout: 10 });
  await q.send({ body: "x" });
  const message = await q.receive();
  assert.ok(message);
  assert.equal(await q.delete(message.id), true);
  clock.advance(1000);
  assert.equal(await q.receive(), undefined);
  assert.equal(await count(), 0);
});

eachEngine(
  "Queue.delete() and Queue.extend() with a stale receipt are refused; the current one succeeds",
  async ({ queue, clock, count }) => {
    const q = queue({ name: "q", timeout: 100 });
    await q.send({ body: "contended" });
    const a = await q.receive();
    assert.ok(a);
    clock.advance(100);
    const b = await q.receive();
    assert.ok(b);
    assert.equal(b.id, a.id);
    assert.equal(b.received, 2);
    assert.equal(await q.extend(a, 10_000), false, "A's extend is refused");
    assert.equal(await q.delete(a), false, "A's delete is refused");
    assert.equal(await q.extend(b, 10_000), true, "B's extend succeeds");
    assert.equal(await q.delete(b), true, "B's delete succeeds");
    assert.equal(await count(), 0);
  },
);

eachEngine("Queue.delete() with a receipt succeeds after the timeout if nobody took it", async (
  { queue, clock },
) => {
  const q = queue({ name: "q", timeout: 100 });
  await q.send({ body: "slow" });
  const message = await q.receive();
  assert.ok(message);
  clock.advance(5000);
  assert.equal(await q.delete(message), true);
});

eachDriver("Queue writes goqite's timestamp format from its clock", async ({ db, clock }) => {
  const queue = new Queue({ db, name: "q", timeout: 2500, clock: clock.fn });
  const id = await queue.send({ body: "x", delay: 1500 });
  let row = db.prepare("select created, timeout from goqite where id = ?").get(id);
  assert.equal(row?.created, "2026-11-24T12:00:00.000Z");
  assert.equal(row?.timeout, "2026-11-24T12:00:01.500Z");
  clock.advance(1500);
  await queue.receive();
  row = db.prepare("select timeout from goqite where id = ?").get(id);
  assert.equal(row?.timeout, "2026-11-24T12:00:04.000Z");
});

eachEngine(
  "Queue.receiveAndWait() returns at once when a message is waiting",
  async ({ queue }) => {
    const q = queue({ name: "q" });
    await q.send({ body: "ready" });
    // An interval of a minute: only an immediate receive can pass this test in time.
    const message = await q.receiveAndWait({ interval: 60_000 });
    assert.equal(text(message.body), "ready");
  },
);

eachEngine("Queue.receiveAndWait() is woken by a send in this process", async ({ queue }) => {
  const q = queue({ name: "q" });
  const waiting = q.receiveAndWait({ interval: 60_000, signal: AbortSignal.timeout(10_000) });
  await sleep(5);
  await q.send({ body: "wake up" });
  assert.equal(text((await waiting).body), "wake up");
});

eachEngine(
  "Queue.receiveAndWait() is woken by a send on another connection to the file",
  async ({ queue }) => {
    const q = queue({ name: "q" });
    const other = queue({ name: "q", separate: true });
    const waiting = q.receiveAndWait({
      interval: 60_000,
      signal: AbortSignal.timeout(10_000),
    });
    await sleep(5);
    await other.send({ body: "from elsewhere" });
    assert.equal(text((await waiting).body), "from elsewhere");
  },
);

eachDriver(
  "Queue.receiveAndWait() is woken by a commit that bypasses qite on another connection",
  async ({ db, connect }) => {
    const queue = new Queue({ db, name: "q" });
    const other = connect();
    const waiting = queue.receiveAndWait({
      interval: 60_000,
      signal: AbortSignal.timeout(10_000),
    });
    await sleep(5);
    // Raw SQL, as another process (or goqite) would write it: only PRAGMA data_version sees it.
    other.prepare("insert into goqite (queue, body) values ('q', ?)").run(new Uint8Array([7]));
    assert.deepEqual([...(await waiting).body], [7]);
  },
);

eachEngine("Queue.receiveAndWait() receives a delayed message when it becomes visible", async (
  { queue },
) => {
  const q = queue({ name: "q", fakeClock: false });
  await q.send({ body: "in 30 ms", delay: 30 });
  const message = await q.receiveAndWait({
    interval: 60_000,
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(text(message.body), "in 30 ms");
});

eachEngine("Queue.receiveAndWait() does not receive from another queue", async ({ queue }) => {
  const q = queue({ name: "q" });
  const other = queue({ name: "other" });
  const controller = new AbortController();
  const waiting = q.receiveAndWait({ signal: controller.signal, interval: 5 });
  await other.send({ body: "not for q" });
  await sleep(30);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, { message: "stop" });
  assert.ok(await other.receive());
});

eachDriver(
  "Queue.receiveAndWait() rejects with the signal's reason and leaves no waiter or timer",
  async ({ db }) => {
    const queue = new Queue({ db, name: "q" });
    const controller = new AbortController();
    const reason = new Error("shutting down");
    const waiting = queue.receiveAndWait({ signal: controller.signal });
    await sleep(5);
    assert.equal(roomOf(db).size, 1);
    controller.abort(reason);
    await assert.rejects(waiting, (error) => error === reason);
    assert.equal(roomOf(db).size, 0, "the data_version watcher stopped");
  },
);

eachEngine("Queue.receiveAndWait() rejects at once with an already aborted signal", async (
  { queue },
) => {
  const q = queue({ name: "q" });
  await q.send({ body: "not taken" });
  const reason = new Error("already");
  await assert.rejects(
    q.receiveAndWait({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.ok(await q.receive(), "the message is still there");
});

eachDriver("Queue.close() makes a pending receiveAndWait() reject with CLOSED", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const waiting = queue.receiveAndWait({ interval: 60_000 });
  await sleep(5);
  queue.close();
  await assert.rejects(waiting, { name: "QueueError", code: "CLOSED" });
  assert.equal(roomOf(db).size, 0);
});

eachEngine("A closed queue rejects every operation with CLOSED", async ({ queue }) => {
  const q = queue();
  const id = await q.send({ body: "x" });
  const message = await q.receive();
  assert.ok(message);
  await q.close();
  await q.close();
  assert.equal(q.closed, true);
  const closed = { name: "QueueError", code: "CLOSED" };
  await assert.rejects(q.send({ body: "x" }), closed);
  await assert.rejects(q.sendBatch([{ body: "x" }]), closed);
  await assert.rejects(q.receive(), closed);
  await assert.rejects(q.receiveBatch(2), closed);
  await assert.rejects(q.receiveAndWait(), closed);
  await assert.rejects(q.extend(id, 1), closed);
  await assert.rejects(q.delete(id), closed);
  await assert.rejects(q.deleteAndReceive([id], 1), closed);
  await assert.rejects(q.release(message), closed);
  await assert.rejects(q.bury(message), closed);
  await assert.rejects(q.peek(), closed);
  await assert.rejects(q.stats(), closed);
  await assert.rejects(q.listDead(), closed);
  await assert.rejects(q.redrive(), closed);
  await assert.rejects(q.purge(), closed);
});

eachEngine("Queue.close() makes every pending wait reject with CLOSED", async ({ queue }) => {
  const q = queue();
  const waits = [
    q.receiveAndWait({ interval: 60_000 }),
    q.receiveBatchAndWait(10, { interval: 60_000 }),
  ];
  await sleep(5);
  await q.close();
  // Both handlers from the start: the second wait rejects while the first is checked.
  await Promise.all(
    waits.map((wait) => assert.rejects(wait, { name: "QueueError", code: "CLOSED" })),
  );
});

eachDriver("Queue.transaction() on a closed queue throws CLOSED; its database stays open", (
  { db },
) => {
  const queue = new Queue({ db, name: "q" });
  queue.close();
  assert.throws(() => queue.transaction(() => 1), { name: "QueueError", code: "CLOSED" });
  assert.equal(db.closed, false, "a queue does not close a database it was given");
});

eachDriver("A queue on a closed database rejects with CLOSED", async ({ connect }) => {
  const db = connect();
  const queue = new Queue({ db, name: "q" });
  db.close();
  await assert.rejects(queue.send({ body: "x" }), { name: "QueueError", code: "CLOSED" });
  await assert.rejects(queue.receive(), { name: "QueueError", code: "CLOSED" });
});

eachDriver("A queue on a handle closed behind its back rejects with CLOSED", async (
  { connect },
) => {
  const db = connect();
  const queue = new Queue({ db, name: "q" });
  (db.native as { close(): void }).close();
  await assert.rejects(queue.send({ body: "x" }), { name: "QueueError", code: "CLOSED" });
});

eachDriver(
  "Queue rejects with NOT_SET_UP when the table does not exist",
  async ({ dir, driver }) => {
    const db = openWith(driver, `${dir}/empty.db`);
    try {
      const queue = new Queue({ db, name: "q" });
      await assert.rejects(queue.send({ body: "x" }), { name: "QueueError", code: "NOT_SET_UP" });
    } finally {
      db.close();
    }
  },
);

eachDriver("Queue rejects with BUSY when another connection holds the write lock", async (
  { connect, driver, path },
) => {
  const holder = connect();
  const db = openWith(driver, path);
  try {
    db.busyTimeout = 20;
    const queue = new Queue({ db, name: "q" });
    holder.exec("begin immediate");
    const error = await queue.send({ body: "x" }).catch((e: unknown) => e);
    holder.exec("rollback");
    assert.ok(error instanceof QueueError);
    assert.equal(error.code, "BUSY");
    assert.equal((error.sqliteCode ?? 0) & 0xff, 5);
    assert.ok(error.cause instanceof Error);
    assert.match(error.message, /^Cannot send message/);
    assert.match(await queue.send({ body: "x" }), /^m_/, "works again once the lock is gone");
  } finally {
    db.close();
  }
});
