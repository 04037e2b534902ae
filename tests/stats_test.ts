import assert from "node:assert/strict";
import { listQueues, Queue } from "../mod.ts";
import { eachDriver, text } from "./_helpers.ts";

eachDriver("Queue.stats() counts visible, in-flight, delayed and dead messages exactly", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", timeout: 100, maxReceive: 1, clock: clock.fn });
  await queue.send({ body: "will die" });
  await queue.receive();
  clock.advance(100); // dead now
  await queue.sendBatch([{ body: "visible 1" }, { body: "visible 2" }]);
  clock.advance(250);
  await queue.send({ body: "delayed", delay: 1000 });
  await queue.send({ body: "in flight", priority: 9 });
  await queue.receive();
  await new Queue({ db, name: "other" }).send({ body: "not counted" });
  assert.deepEqual(await queue.stats(), {
    total: 5,
    visible: 2,
    inFlight: 1,
    delayed: 1,
    dead: 1,
    oldestVisibleAge: 250,
  });
});

eachDriver("Queue.stats() of an empty queue is all zero, with no oldest age", async ({ db }) => {
  const stats = await new Queue({ db, name: "q" }).stats();
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

eachDriver("Queue.peek() shows visible messages in receive order and changes nothing", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", clock: clock.fn });
  await queue.send({ body: "low", priority: -1 });
  clock.advance(1);
  await queue.send({ body: "delayed", delay: 1000 });
  await queue.sendBatch([{ body: "first" }, { body: "second" }, { body: "high", priority: 3 }]);
  const before = db.prepare("select id, received, timeout from goqite order by id").all()
    .map((row) => ({ ...row }));
  const peeked = await queue.peek({ limit: 3 });
  assert.deepEqual(peeked.map((m) => text(m.body)), ["high", "first", "second"]);
  assert.equal(peeked[0]!.received, 0);
  assert.equal(peeked[0]!.created.getTime(), clock.now);
  assert.deepEqual((await queue.peek()).map((m) => text(m.body)), [
    "high",
    "first",
    "second",
    "low",
  ]);
  const after = db.prepare("select id, received, timeout from goqite order by id").all()
    .map((row) => ({ ...row }));
  assert.deepEqual(after, before);
  await assert.rejects(queue.peek({ limit: 0 }), RangeError);
});

eachDriver("Queue.purge() deletes every message of its queue and no other", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const other = new Queue({ db, name: "other" });
  await queue.sendBatch([{ body: "a" }, { body: "b", delay: 5000 }]);
  await queue.send({ body: "c" });
  await queue.receive();
  await other.send({ body: "stays" });
  assert.equal(await queue.purge(), 3);
  assert.equal((await queue.stats()).total, 0);
  assert.equal(text((await other.receive())!.body), "stays");
});
