import assert from "node:assert/strict";
import { Queue, QueueError } from "../mod.ts";
import { roomOf } from "../src/sqlite/_wake.ts";
import { eachDriver, openWith, sleep, text } from "./_helpers.ts";

eachDriver("Queue.send() returns an id of 'm_' and 32 lowercase hex digits", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const ids = new Set<string>();
  for (let i = 0; i < 50; i++) ids.add(await queue.send({ body: "x" }));
  assert.equal(ids.size, 50);
  for (const id of ids) assert.match(id, /^m_[0-9a-f]{32}$/);
});

eachDriver("Queue.send() makes ids that sort in the order they were made", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(await queue.send({ body: "x" }));
    await sleep(2);
  }
  assert.deepEqual(ids.toSorted(), ids);
});

eachDriver("Queue.receive() returns a sent message with its bytes", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const body = new Uint8Array([0, 1, 2, 255, 254, 0]);
  const id = await queue.send({ body });
  const message = await queue.receive();
  assert.ok(message);
  assert.equal(message.id, id);
  assert.ok(message.body instanceof Uint8Array);
  assert.deepEqual([...message.body], [...body]);
  assert.equal(message.received, 1);
  assert.equal(message.priority, 0);
});

eachDriver("Queue.send() stores a string body as UTF-8 bytes", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  await queue.send({ body: "héllo ✓" });
  const message = await queue.receive();
  assert.ok(message);
  assert.deepEqual([...message.body], [...new TextEncoder().encode("héllo ✓")]);
  assert.equal(text(message.body), "héllo ✓");
});

eachDriver("Queue.send() accepts an empty body", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  await queue.send({ body: new Uint8Array(0) });
  const message = await queue.receive();
  assert.equal(message?.body.length, 0);
});

eachDriver("Queue.receive() returns undefined when the queue is empty", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  assert.equal(await queue.receive(), undefined);
});

eachDriver("Queue.receive() does not return a delayed message before its delay", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", clock: clock.fn });
  await queue.send({ body: "later", delay: 1000 });
  assert.equal(await queue.receive(), undefined);
  clock.advance(999);
  assert.equal(await queue.receive(), undefined);
  clock.advance(1);
  assert.equal(text((await queue.receive())!.body), "later");
});

eachDriver("Queue.receive() does not return the same message twice in a row", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  await queue.send({ body: "once" });
  assert.ok(await queue.receive());
  assert.equal(await queue.receive(), undefined);
});

eachDriver(
  "Queue.receive() returns a message again after its timeout, up to maxReceive times, never after",
  async ({ db, clock }) => {
    const queue = new Queue({ db, name: "q", timeout: 100, maxReceive: 3, clock: clock.fn });
    const id = await queue.send({ body: "retry" });
    for (let i = 1; i <= 3; i++) {
      const message = await queue.receive();
      assert.equal(message?.id, id);
      assert.equal(message?.received, i);
      clock.advance(99);
      assert.equal(await queue.receive(), undefined, "hidden inside the timeout");
      clock.advance(1);
    }
    assert.equal(await queue.receive(), undefined, "dead after maxReceive receives");
    clock.advance(1_000_000);
    assert.equal(await queue.receive(), undefined);
    const row = db.prepare("select received from goqite where id = ?").get(id);
    assert.equal(row?.received, 3, "a dead message stays in the table");
  },
);

eachDriver("Queue.receive() returns higher priority first, then oldest first", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", clock: clock.fn });
  const send = async (body: string, priority: number): Promise<void> => {
    await queue.send({ body, priority });
    clock.advance(1);
  };
  await send("low-1", -1);
  await send("mid-1", 0);
  await send("high-1", 10);
  await send("mid-2", 0);
  await send("high-2", 10);
  await send("low-2", -1);
  const order: string[] = [];
  for (let message = await queue.receive(); message; message = await queue.receive()) {
    order.push(text(message.body));
  }
  assert.deepEqual(order, ["high-1", "high-2", "mid-1", "mid-2", "low-1", "low-2"]);
});

eachDriver("Queue.receive() keeps send order for messages sent in the same millisecond", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", clock: clock.fn });
  for (let i = 0; i < 20; i++) await queue.send({ body: String(i) });
  const order: string[] = [];
  for (let message = await queue.receive(); message; message = await queue.receive()) {
    order.push(text(message.body));
  }
  assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => String(i)));
});

eachDriver("Queue.receive() orders a due delayed message by its creation time", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", clock: clock.fn });
  await queue.send({ body: "delayed, sent first", delay: 10 });
  clock.advance(1);
  await queue.send({ body: "sent second" });
  clock.advance(10);
  assert.equal(text((await queue.receive())!.body), "delayed, sent first");
  assert.equal(text((await queue.receive())!.body), "sent second");
});

eachDriver("Queues with different names do not see each other's messages", async ({ db }) => {
  const a = new Queue({ db, name: "a" });
  const b = new Queue({ db, name: "b" });
  const id = await a.send({ body: "for a" });
  assert.equal(await b.receive(), undefined);
  assert.equal(await b.delete(id), false);
  assert.equal(await b.extend(id, 1000), false);
  assert.equal((await a.receive())?.id, id);
});

eachDriver("Queue.extend() hides a received message for the given delay", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", timeout: 100, clock: clock.fn });
  await queue.send({ body: "long job" });
  const message = await queue.receive();
  assert.ok(message);
  assert.equal(await queue.extend(message, 1000), true);
  clock.advance(999);
  assert.equal(await queue.receive(), undefined);
  clock.advance(1);
  assert.equal((await queue.receive())?.id, message.id);
});

eachDriver("Queue.extend() by id hides a message that was never received", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", clock: clock.fn });
  const id = await queue.send({ body: "x" });
  assert.equal(await queue.extend(id, 500), true);
  assert.equal(await queue.receive(), undefined);
  clock.advance(500);
  assert.equal((await queue.receive())?.id, id);
});

eachDriver("Queue.delete() removes a message for good", async ({ db, clock }) => {
  const queue = new Queue({ db, name: "q", timeout: 10, clock: clock.fn });
  await queue.send({ body: "x" });
  const message = await queue.receive();
  assert.ok(message);
  assert.equal(await queue.delete(message.id), true);
  clock.advance(1000);
  assert.equal(await queue.receive(), undefined);
  assert.equal(db.prepare("select count(*) as n from goqite").get()?.n, 0);
});

eachDriver(
  "Queue.delete() and Queue.extend() with a stale receipt are refused; the current one succeeds",
  async ({ db, clock }) => {
    const queue = new Queue({ db, name: "q", timeout: 100, clock: clock.fn });
    await queue.send({ body: "contended" });
    const a = await queue.receive();
    assert.ok(a);
    clock.advance(100);
    const b = await queue.receive();
    assert.ok(b);
    assert.equal(b.id, a.id);
    assert.equal(b.received, 2);
    assert.equal(await queue.extend(a, 10_000), false, "A's extend is refused");
    assert.equal(await queue.delete(a), false, "A's delete is refused");
    assert.equal(await queue.extend(b, 10_000), true, "B's extend succeeds");
    assert.equal(await queue.delete(b), true, "B's delete succeeds");
    assert.equal(db.prepare("select count(*) as n from goqite").get()?.n, 0);
  },
);

eachDriver("Queue.delete() with a receipt succeeds after the timeout if nobody took it", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", timeout: 100, clock: clock.fn });
  await queue.send({ body: "slow" });
  const message = await queue.receive();
  assert.ok(message);
  clock.advance(5000);
  assert.equal(await queue.delete(message), true);
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

eachDriver("Queue.receiveAndWait() returns at once when a message is waiting", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  await queue.send({ body: "ready" });
  // An interval of a minute: only an immediate receive can pass this test in time.
  const message = await queue.receiveAndWait({ interval: 60_000 });
  assert.equal(text(message.body), "ready");
});

eachDriver("Queue.receiveAndWait() is woken by a send in this process", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const waiting = queue.receiveAndWait({ interval: 60_000, signal: AbortSignal.timeout(10_000) });
  await sleep(5);
  await queue.send({ body: "wake up" });
  assert.equal(text((await waiting).body), "wake up");
});

eachDriver(
  "Queue.receiveAndWait() is woken by a send on another connection to the file",
  async ({ db, connect }) => {
    const queue = new Queue({ db, name: "q" });
    const other = new Queue({ db: connect(), name: "q" });
    const waiting = queue.receiveAndWait({
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

eachDriver("Queue.receiveAndWait() receives a delayed message when it becomes visible", async (
  { db },
) => {
  const queue = new Queue({ db, name: "q" });
  await queue.send({ body: "in 30 ms", delay: 30 });
  const message = await queue.receiveAndWait({
    interval: 60_000,
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(text(message.body), "in 30 ms");
});

eachDriver("Queue.receiveAndWait() does not receive from another queue", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const other = new Queue({ db, name: "other" });
  const controller = new AbortController();
  const waiting = queue.receiveAndWait({ signal: controller.signal, interval: 5 });
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

eachDriver("Queue.receiveAndWait() rejects at once with an already aborted signal", async (
  { db },
) => {
  const queue = new Queue({ db, name: "q" });
  await queue.send({ body: "not taken" });
  const reason = new Error("already");
  await assert.rejects(
    queue.receiveAndWait({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.ok(await queue.receive(), "the message is still there");
});

eachDriver("Queue.close() makes a pending receiveAndWait() reject with CLOSED", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const waiting = queue.receiveAndWait({ interval: 60_000 });
  await sleep(5);
  queue.close();
  await assert.rejects(waiting, { name: "QueueError", code: "CLOSED" });
  assert.equal(roomOf(db).size, 0);
});

eachDriver("A closed queue rejects every operation with CLOSED", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const id = await queue.send({ body: "x" });
  queue.close();
  queue.close();
  assert.equal(queue.closed, true);
  const closed = { name: "QueueError", code: "CLOSED" };
  await assert.rejects(queue.send({ body: "x" }), closed);
  await assert.rejects(queue.receive(), closed);
  await assert.rejects(queue.receiveAndWait(), closed);
  await assert.rejects(queue.extend(id, 1), closed);
  await assert.rejects(queue.delete(id), closed);
  assert.throws(() => queue.transaction(() => 1), closed);
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
