import assert from "node:assert/strict";
import { Queue } from "../mod.ts";
import { eachDriver, sleep, text } from "./_helpers.ts";
import { eachEngine } from "./_engines.ts";

eachEngine("Queue.sendBatch() returns the ids in order and the messages arrive in order", async (
  { queue },
) => {
  const q = queue({ name: "q" });
  const ids = await q.sendBatch(Array.from({ length: 5 }, (_, i) => ({ body: `m${i}` })));
  assert.equal(ids.length, 5);
  assert.equal(new Set(ids).size, 5);
  const received = await q.receiveBatch(10);
  assert.deepEqual(received.map((m) => m.id), ids);
  assert.deepEqual(received.map((m) => text(m.body)), ["m0", "m1", "m2", "m3", "m4"]);
});

eachEngine("Queue.sendBatch() with an empty list does nothing", async ({ queue }) => {
  const q = queue({ name: "q" });
  assert.deepEqual(await q.sendBatch([]), []);
  assert.deepEqual(await q.receiveBatch(5), []);
  assert.deepEqual(await q.deleteBatch([]), []);
  assert.deepEqual(await q.extendBatch([], 10), []);
});

eachEngine("Queue.sendBatch() checks every entry first and sends nothing if one is bad", async (
  { queue, count },
) => {
  const q = queue({ name: "q" });
  await assert.rejects(
    q.sendBatch([{ body: "ok" }, { body: "bad", delay: -1 }]),
    (error: Error) => error instanceof RangeError && /entry 1/.test(error.message),
  );
  await assert.rejects(q.sendBatch("nope" as unknown as []), TypeError);
  assert.equal(await count(), 0);
});

eachDriver("Queue.sendBatch() that fails half-way rolls back whole", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  db.exec(`create trigger refuse before insert on goqite when new.body = x'ff'
    begin select raise(abort, 'refused by test'); end`);
  await assert.rejects(
    queue.sendBatch([{ body: "first" }, { body: new Uint8Array([0xff]) }, { body: "third" }]),
    { name: "QueueError" },
  );
  assert.equal(db.prepare("select count(*) as n from goqite").get()?.n, 0);
  assert.equal(db.inTransaction, false);
});

eachEngine(
  "Queue.sendBatch() sends thousands of messages in one call",
  async ({ queue, count }) => {
    const q = queue({ name: "q" });
    const ids = await q.sendBatch(Array.from({ length: 5000 }, (_, i) => ({ body: `${i}` })));
    assert.equal(new Set(ids).size, 5000);
    const received = await q.receiveBatch(5000);
    assert.equal(received.length, 5000);
    assert.deepEqual(await q.deleteBatch(received), Array(5000).fill(true));
    assert.equal(await count(), 0);
  },
);

eachEngine("Queue.receiveBatch() returns at most max messages, each once", async ({ queue }) => {
  const q = queue({ name: "q" });
  await q.sendBatch(Array.from({ length: 7 }, (_, i) => ({ body: `${i}` })));
  const first = await q.receiveBatch(3);
  const second = await q.receiveBatch(3);
  const third = await q.receiveBatch(3);
  assert.deepEqual([first.length, second.length, third.length], [3, 3, 1]);
  const all = [...first, ...second, ...third].map((m) => text(m.body));
  assert.deepEqual(all, ["0", "1", "2", "3", "4", "5", "6"]);
  assert.deepEqual(await q.receiveBatch(3), []);
});

eachEngine("Queue.receiveBatch() merges fresh messages and due retries in goqite's order", async (
  { queue, clock },
) => {
  const q = queue({ name: "q", timeout: 100 });
  await q.send({ body: "old, will be retried" });
  clock.advance(1);
  await q.send({ body: "delayed high", priority: 5, delay: 50 });
  clock.advance(1);
  assert.equal(text((await q.receive())!.body), "old, will be retried");
  await q.sendBatch([{ body: "new low", priority: -1 }, { body: "new" }]);
  clock.advance(100);
  const order = (await q.receiveBatch(10)).map((m) => text(m.body));
  assert.deepEqual(order, ["delayed high", "old, will be retried", "new", "new low"]);
});

eachEngine(
  "Retries from a batch keep their place in send order ahead of the rest of their batch",
  async ({ queue, clock }) => {
    const q = queue({ name: "q", timeout: 100 });
    const ids = await q.sendBatch(Array.from({ length: 20 }, (_, i) => ({ body: `m${i}` })));
    assert.deepEqual((await q.receiveBatch(10)).map((m) => m.id), ids.slice(0, 10));
    clock.advance(100); // the first ten are retries now, as old as the other ten
    const order = (await q.receiveBatch(5)).map((m) => m.id);
    for (let i = 5; i < 20; i++) order.push((await q.receive())!.id);
    assert.deepEqual(order, ids);
  },
);

eachEngine("Queue.deleteBatch() and extendBatch() report each entry's outcome", async (
  { queue, clock, count },
) => {
  const q = queue({ name: "q", timeout: 100 });
  await q.sendBatch([{ body: "a" }, { body: "b" }, { body: "c" }]);
  const [a, b, c] = await q.receiveBatch(3);
  assert.ok(a && b && c);
  clock.advance(100);
  const [again] = await q.receiveBatch(1); // "a" again: a's first receipt is now stale
  assert.equal(again?.id, a.id);
  assert.deepEqual(await q.extendBatch([a, again!, b.id, "m_unknown"], 1000), [
    false,
    true,
    true,
    false,
  ]);
  assert.deepEqual(await q.deleteBatch([a, again!, b, c.id, c.id]), [
    false,
    true,
    true,
    true,
    false,
  ]);
  assert.equal(await count(), 0);
});

eachEngine("Queue.receiveBatchAndWait() is woken by a batch sent in this process", async (
  { queue },
) => {
  const q = queue({ name: "q" });
  const waiting = q.receiveBatchAndWait(10, {
    interval: 60_000,
    signal: AbortSignal.timeout(10_000),
  });
  await sleep(5);
  await q.sendBatch([{ body: "x" }, { body: "y" }]);
  assert.deepEqual((await waiting).map((m) => text(m.body)), ["x", "y"]);
});

eachDriver("QueueTransaction batch operations commit and roll back together", ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  assert.throws(() =>
    queue.transaction((tx) => {
      tx.sendBatch([{ body: "1" }, { body: "2" }]);
      throw new Error("no");
    })
  );
  assert.equal(db.prepare("select count(*) as n from goqite").get()?.n, 0);
  const ids = queue.transaction((tx) => tx.sendBatch([{ body: "1" }, { body: "2" }]));
  const done = queue.transaction((tx) => {
    const messages = tx.receiveBatch(5);
    assert.deepEqual(tx.extendBatch(messages, 1000), [true, true]);
    return tx.deleteBatch(messages);
  });
  assert.deepEqual(done, [true, true]);
  assert.equal(ids.length, 2);
  assert.equal(db.prepare("select count(*) as n from goqite").get()?.n, 0);
});

eachEngine("Batch methods reject misuse and change nothing", async ({ queue, sql }) => {
  const q = queue({ name: "q" });
  const id = await q.send({ body: "x" });
  await assert.rejects(q.receiveBatch(0), RangeError);
  await assert.rejects(q.receiveBatch(1.5), RangeError);
  await assert.rejects(q.receiveBatchAndWait(0), RangeError);
  await assert.rejects(q.deleteBatch([id, 5 as unknown as string]), TypeError);
  await assert.rejects(q.extendBatch([id], -1), RangeError);
  await assert.rejects(q.extendBatch("x" as unknown as string[], 1), TypeError);
  const [row] = await sql(`select received from goqite where id = '${id}'`);
  assert.equal(Number(row?.received), 0);
  assert.equal(await q.delete(id), true);
});

eachDriver(
  "Queue.sendBatch() keeps each entry's body, delay and priority at every batch size",
  async (
    { db, clock },
  ) => {
    const queue = new Queue({ db, name: "q", clock: clock.fn });
    const row = db.prepare("select body, priority, timeout, created from goqite where id = ?");
    for (const size of [1, 3, 4, 5, 16, 17, 63, 64, 65, 100, 150]) {
      const messages = Array.from({ length: size }, (_, i) => ({
        body: `${size}:${i}`,
        delay: i % 3 === 0 ? 0 : i * 1000,
        priority: i % 5,
      }));
      const ids = await queue.sendBatch(messages);
      assert.equal(ids.length, size);
      ids.forEach((id, i) => {
        const stored = row.get(id)!;
        assert.equal(text(stored.body as Uint8Array), `${size}:${i}`);
        assert.equal(stored.priority, i % 5);
        assert.equal(
          Date.parse(stored.timeout as string) - Date.parse(stored.created as string),
          messages[i]!.delay,
        );
      });
    }
  },
);

eachEngine("Queue.deleteAndReceive() never hands out a message it deletes", async (
  { queue, clock },
) => {
  const q = queue({ name: "q", timeout: 100 });
  await q.sendBatch([{ body: "a" }, { body: "b" }]);
  const first = await q.receiveBatch(2);
  clock.advance(100); // both leases ran out: both are visible again
  const { deleted, messages } = await q.deleteAndReceive([first[0]!], 10);
  assert.deepEqual(deleted, [true]);
  assert.deepEqual(messages.map((m) => text(m.body)), ["b"]);
  const again = await q.deleteAndReceive([messages[0]!, messages[0]!.id, "m_gone"], 10);
  assert.deepEqual(again.deleted, [true, false, false], "an id given twice is deleted once");
  assert.deepEqual(again.messages, []);
});
