import assert from "node:assert/strict";
import { listQueues, Queue } from "../mod.ts";
import { eachDriver, text } from "./_helpers.ts";
import { eachEngine } from "./_engines.ts";

eachEngine("Queue.stats() counts visible, in-flight, delayed and dead messages exactly", async (
  { queue, clock },
) => {
  const q = queue({ name: "q", timeout: 100, maxReceive: 1 });
  await q.send({ body: "will die" });
  await q.receive();
  clock.advance(100); // dead now
  await q.sendBatch([{ body: "visible 1" }, { body: "visible 2" }]);
  clock.advance(250);
  await q.send({ body: "delayed", delay: 1000 });
  await q.send({ body: "in flight", priority: 9 });
  await q.receive();
  await queue({ name: "other" }).send({ body: "not counted" });
  assert.deepEqual(await q.stats(), {
    total: 5,
    visible: 2,
    inFlight: 1,
    delayed: 1,
    dead: 1,
    oldestVisibleAge: 250,
  });
});

eachEngine("Queue.stats() of an empty queue is all zero, with no oldest age", async ({ queue }) => {
  const stats = await queue({ name: "q" }).stats();
  assert.deepEqual(stats, {
    total: 0,
    visible: 0,
    inFlight: 0,
    delayed: 0,
    dead: 0,
    oldestVisibleAge: undefined,
  });
});

eachDriver("listQueues() lists the names of queues with messages, sorted", async ({ db }) => {
  assert.deepEqual(await listQueues(db), []);
  for (const name of ["zeta", "alpha", "m'quote\"s", "alpha"]) {
    await new Queue({ db, name }).send({ body: "x" });
  }
  assert.deepEqual(await listQueues(db), ["alpha", "m'quote\"s", "zeta"]);
  assert.deepEqual(await listQueues(db.native), ["alpha", "m'quote\"s", "zeta"]);
});

eachEngine("Queue.peek() shows visible messages in receive order and changes nothing", async (
  { queue, clock, sql },
) => {
  const q = queue({ name: "q" });
  await q.send({ body: "low", priority: -1 });
  clock.advance(1);
  await q.send({ body: "delayed", delay: 1000 });
  await q.sendBatch([{ body: "first" }, { body: "second" }, { body: "high", priority: 3 }]);
  const rows = async (): Promise<unknown[]> =>
    (await sql("select id, received, timeout from goqite order by id")).map((row) => ({
      ...row,
    }));
  const before = await rows();
  const peeked = await q.peek({ limit: 3 });
  assert.deepEqual(peeked.map((m) => text(m.body)), ["high", "first", "second"]);
  assert.equal(peeked[0]!.received, 0);
  assert.equal(peeked[0]!.created.getTime(), clock.now);
  assert.deepEqual((await q.peek()).map((m) => text(m.body)), [
    "high",
    "first",
    "second",
    "low",
  ]);
  assert.deepEqual(await rows(), before);
  await assert.rejects(q.peek({ limit: 0 }), RangeError);
});

eachEngine("Queue.purge() deletes every message of its queue and no other", async ({ queue }) => {
  const q = queue({ name: "q" });
  const other = queue({ name: "other" });
  await q.sendBatch([{ body: "a" }, { body: "b", delay: 5000 }]);
  await q.send({ body: "c" });
  await q.receive();
  await other.send({ body: "stays" });
  assert.equal(await q.purge(), 3);
  assert.equal((await q.stats()).total, 0);
  assert.equal(text((await other.receive())!.body), "stays");
});
