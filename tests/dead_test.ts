import assert from "node:assert/strict";
import { text } from "./_helpers.ts";
import { eachEngine, type EngineContext, type EngineQueue } from "./_engines.ts";

/** Sends `bodies` and lets each die: maxReceive 2, two receives, timeout passed. */
async function killed(
  { queue: open, clock }: EngineContext,
  bodies: string[],
  name = "q",
): Promise<EngineQueue> {
  const queue = open({ name, timeout: 100, maxReceive: 2 });
  for (const body of bodies) {
    await queue.send({ body });
    clock.advance(1);
  }
  for (let round = 0; round < 2; round++) {
    assert.equal((await queue.receiveBatch(100)).length, bodies.length);
    clock.advance(100);
  }
  return queue;
}

eachEngine("Queue.listDead() lists dead messages oldest first, a page at a time", async (
  context,
) => {
  const q = await killed(context, ["a", "b", "c", "d", "e"]);
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await q.listDead({ limit: 2, cursor });
    seen.push(...page.messages.map((m) => text(m.body)));
    for (const message of page.messages) {
      assert.equal(message.received, 2);
      assert.ok(message.created instanceof Date);
    }
    cursor = page.cursor;
    pages++;
  } while (cursor !== undefined);
  assert.deepEqual(seen, ["a", "b", "c", "d", "e"]);
  assert.equal(pages, 3);
  assert.equal(await q.countDead(), 5);
});

eachEngine("Queue.listDead() gives no cursor on a full last page", async (context) => {
  const q = await killed(context, ["a", "b", "c", "d"]);
  const first = await q.listDead({ limit: 2 });
  assert.deepEqual(first.messages.map((m) => text(m.body)), ["a", "b"]);
  assert.ok(first.cursor !== undefined);
  const last = await q.listDead({ limit: 2, cursor: first.cursor });
  assert.deepEqual(last.messages.map((m) => text(m.body)), ["c", "d"]);
  assert.equal(last.cursor, undefined, "nothing follows");
  const all = await q.listDead({ limit: 4 });
  assert.equal(all.messages.length, 4);
  assert.equal(all.cursor, undefined);
});

eachEngine("A message in its last lease is in flight, not dead", async ({ queue, clock }) => {
  const q = queue({ name: "q", timeout: 100, maxReceive: 1 });
  await q.send({ body: "last try" });
  const message = await q.receive();
  assert.ok(message);
  assert.equal(await q.countDead(), 0);
  assert.equal(await q.redrive(), 0, "redrive leaves a message that is being worked on");
  assert.equal((await q.stats()).inFlight, 1);
  clock.advance(100);
  assert.equal(await q.countDead(), 1);
});

eachEngine(
  "Queue.redrive() makes every dead message receivable again, behind the messages already waiting",
  async (context) => {
    const q = await killed(context, ["a", "b"]);
    await q.send({ body: "waiting" });
    context.clock.advance(1);
    assert.equal(await q.redrive(), 2);
    assert.equal(await q.countDead(), 0);
    const order = (await q.receiveBatch(10)).map((m) => [text(m.body), m.received]);
    assert.deepEqual(order, [["waiting", 1], ["a", 1], ["b", 1]]);
  },
);

eachEngine("Queue.redrive() with ids redrives only those dead messages", async (context) => {
  const q = await killed(context, ["a", "b", "c"]);
  const live = await q.send({ body: "live" });
  const dead = (await q.listDead()).messages;
  assert.equal(await q.redrive(dead[0]!.id), 1);
  assert.equal(await q.redrive([dead[1]!.id, live, "m_unknown"]), 1);
  assert.equal(await q.countDead(), 1);
  assert.deepEqual((await q.listDead()).messages.map((m) => text(m.body)), ["c"]);
  await assert.rejects(q.redrive([5 as unknown as string]), TypeError);
});

eachEngine("Queue.purgeDead() deletes only dead messages of its own queue", async (context) => {
  const q = await killed(context, ["a", "b"]);
  const other = await killed(context, ["x"], "other");
  await q.send({ body: "live" });
  assert.equal(await q.purgeDead(), 2);
  assert.equal(await q.countDead(), 0);
  assert.equal(await other.countDead(), 1);
  assert.equal(text((await q.receive())!.body), "live");
});

eachEngine("A redriven message wakes a waiting receiver", async (context) => {
  const q = await killed(context, ["phoenix"]);
  const waiting = q.receiveAndWait({ interval: 60_000, signal: AbortSignal.timeout(10_000) });
  await new Promise((resolve) => setTimeout(resolve, 5));
  await q.redrive();
  assert.equal(text((await waiting).body), "phoenix");
});

eachEngine("Queue.listDead() rejects a bad limit or cursor", async ({ queue }) => {
  const q = queue({ name: "q" });
  await assert.rejects(q.listDead({ limit: 0 }), RangeError);
  await assert.rejects(q.listDead({ cursor: "nonsense" }), TypeError);
});

eachEngine(
  "Queue.bury() resolves once the message counts as dead, even in its first millisecond",
  async (
    { queue: open },
  ) => {
    const queue = open({ name: "b", fakeClock: false });
    for (let i = 1; i <= 50; i++) {
      await queue.send({ body: String(i) });
      assert.equal(await queue.bury((await queue.receive())!), true);
      assert.equal(await queue.countDead(), i, `buried ${i}`);
      assert.equal((await queue.stats()).inFlight, 0);
    }
  },
);

eachEngine(
  "A message extended while the clock had gone back still becomes dead, and can be listed and redriven",
  async ({ queue, clock }) => {
    const q = queue({ name: "q", timeout: 1000, maxReceive: 1 });
    await q.send({ body: "last try" });
    const message = await q.receive();
    assert.ok(message);
    clock.advance(-10_000); // NTP steps the clock back while the consumer works
    assert.equal(await q.extend(message, 5000), true);
    clock.advance(10_010);
    assert.equal((await q.stats()).dead, 1);
    assert.equal(await q.countDead(), 1);
    assert.deepEqual((await q.listDead()).messages.map((m) => m.id), [message.id]);
    assert.equal(await q.redrive(), 1);
    assert.equal((await q.receive())?.id, message.id);
  },
);
