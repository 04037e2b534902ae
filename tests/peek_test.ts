import assert from "node:assert/strict";
import { eachEngine } from "./_engines.ts";

const decoder = new TextDecoder();
const bodies = (messages: { body: Uint8Array }[]): string[] =>
  messages.map((m) => decoder.decode(m.body));

eachEngine("peek() shows visible, delayed and in-flight messages apart, changing nothing", async (
  { queue: make, clock },
) => {
  const queue = make({ timeout: 1000 });
  await queue.sendBatch([
    { body: "later", delay: 5000 },
    { body: "soon", delay: 2000 },
    { body: "now" },
    { body: "taken" },
  ]);
  const taken = await queue.receiveBatch(1);
  assert.deepEqual(bodies(taken), ["now"]);
  assert.deepEqual(bodies(await queue.peek()), ["taken"]);
  assert.deepEqual(bodies(await queue.peek({ state: "visible" })), ["taken"]);
  assert.deepEqual(bodies(await queue.peek({ state: "delayed" })), ["soon", "later"]);
  assert.deepEqual(bodies(await queue.peek({ state: "delayed", limit: 1 })), ["soon"]);
  const inFlight = await queue.peek({ state: "inFlight" });
  assert.deepEqual(bodies(inFlight), ["now"]);
  assert.equal(inFlight[0]!.received, 1);
  assert.equal(inFlight[0]!.timeout.getTime(), clock.now + 1000);
  const stats = await queue.stats();
  assert.deepEqual([stats.visible, stats.delayed, stats.inFlight], [1, 2, 1]);
  await assert.rejects(
    queue.peek({ state: "dead" as "visible" }),
    TypeError,
    "dead messages are listed by listDead",
  );
});
