import assert from "node:assert/strict";
import { Queue } from "../mod.ts";
import { type Context, eachDriver, text } from "./_helpers.ts";

/** Sends `bodies` and lets each die: maxReceive 2, two receives, timeout passed. */
async function killed(
  { db, clock }: Context,
  bodies: string[],
  name = "q",
): Promise<Queue> {
  const queue = new Queue({ db, name, timeout: 100, maxReceive: 2, clock: clock.fn });
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

eachDriver("Queue.listDead() lists dead messages oldest first, a page at a time", async (
  context,
) => {
  const queue = await killed(context, ["a", "b", "c", "d", "e"]);
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await queue.listDead({ limit: 2, cursor });
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
  assert.equal(await queue.countDead(), 5);
});

eachDriver("A message in its last lease is in flight, not dead", async ({ db, clock }) => {
  const queue = new Queue({ db, name: "q", timeout: 100, maxReceive: 1, clock: clock.fn });
  await queue.send({ body: "last try" });
  const message = await queue.receive();
  assert.ok(message);
  assert.equal(await queue.countDead(), 0);
  assert.equal(await queue.redrive(), 0, "redrive leaves a message that is being worked on");
  assert.equal((await queue.stats()).inFlight, 1);
  clock.advance(100);
  assert.equal(await queue.countDead(), 1);
});

eachDriver("Queue.redrive() makes every dead message receivable again, in its old place", async (
  context,
) => {
  const queue = await killed(context, ["a", "b"]);
  await queue.send({ body: "newer" });
  assert.equal(await queue.redrive(), 2);
  assert.equal(await queue.countDead(), 0);
  const order = (await queue.receiveBatch(10)).map((m) => [text(m.body), m.received]);
  assert.deepEqual(order, [["a", 1], ["b", 1], ["newer", 1]]);
});

eachDriver("Queue.redrive() with ids redrives only those dead messages", async (context) => {
  const queue = await killed(context, ["a", "b", "c"]);
  const live = await queue.send({ body: "live" });
  const dead = (await queue.listDead()).messages;
  assert.equal(await queue.redrive(dead[0]!.id), 1);
  assert.equal(await queue.redrive([dead[1]!.id, live, "m_unknown"]), 1);
  assert.equal(await queue.countDead(), 1);
  assert.deepEqual((await queue.listDead()).messages.map((m) => text(m.body)), ["c"]);
  await assert.rejects(queue.redrive([5 as unknown as string]), TypeError);
});

eachDriver("Queue.purgeDead() deletes only dead messages of its own queue", async (context) => {
  const queue = await killed(context, ["a", "b"]);
  const other = await killed(context, ["x"], "other");
  await queue.send({ body: "live" });
  assert.equal(await queue.purgeDead(), 2);
  assert.equal(await queue.countDead(), 0);
  assert.equal(await other.countDead(), 1);
  assert.equal(text((await queue.receive())!.body), "live");
});

eachDriver("A redriven message wakes a waiting receiver", async (context) => {
  const queue = await killed(context, ["phoenix"]);
  const waiting = queue.receiveAndWait({ interval: 60_000, signal: AbortSignal.timeout(10_000) });
  await new Promise((resolve) => setTimeout(resolve, 5));
  await queue.redrive();
  assert.equal(text((await waiting).body), "phoenix");
});

eachDriver("Queue.listDead() rejects a bad limit or cursor", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  await assert.rejects(queue.listDead({ limit: 0 }), RangeError);
  await assert.rejects(queue.listDead({ cursor: "nonsense" }), TypeError);
});
