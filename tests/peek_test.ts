import assert from "node:assert/strict";
import { text } from "./_helpers.ts";
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

eachEngine(
  "peek() and listDead() with bodyBytes read only the start of each body, and give its whole size",
  async ({ queue, clock }) => {
    const q = queue({ name: "q", timeout: 100, maxReceive: 1 });
    const big = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 256);
    await q.send({ body: big });
    clock.advance(1);
    await q.send({ body: "small" });
    clock.advance(1);
    await q.send({ body: big, delay: 60_000 });
    for (const bodyBytes of [0, 1, 100, 4096, 5000, 20_000]) {
      const [first, second] = await q.peek({ limit: 2, bodyBytes });
      assert.deepEqual([...first!.body], [...big.subarray(0, bodyBytes)], `${bodyBytes}`);
      assert.equal(first!.size, 10_000);
      assert.equal(text(second!.body), "small".slice(0, bodyBytes));
      assert.equal(second!.size, 5);
      const [delayed] = await q.peek({ state: "delayed", bodyBytes });
      assert.equal(delayed!.body.length, Math.min(bodyBytes, 10_000));
      assert.equal(delayed!.size, 10_000);
    }
    const whole = await q.peek({ limit: 2 });
    assert.deepEqual([...whole[0]!.body], [...big]);
    assert.deepEqual(whole.map((m) => m.size), [10_000, 5]);
    // In flight, then dead.
    assert.equal((await q.receiveBatch(2)).length, 2);
    const [inFlight] = await q.peek({ state: "inFlight", bodyBytes: 10 });
    assert.deepEqual([inFlight!.body.length, inFlight!.size], [10, 10_000]);
    clock.advance(100);
    const page = await q.listDead({ bodyBytes: 3 });
    assert.deepEqual(page.messages.map((m) => [[...m.body], m.size]), [
      [[...big.subarray(0, 3)], 10_000],
      [[...new TextEncoder().encode("sma")], 5],
    ]);
    assert.deepEqual((await q.listDead()).messages.map((m) => m.body.length), [10_000, 5]);
    await assert.rejects(q.peek({ bodyBytes: -1 }), RangeError);
    await assert.rejects(q.peek({ bodyBytes: 1.5 }), RangeError);
    await assert.rejects(q.listDead({ bodyBytes: 2 ** 31 }), RangeError);
  },
);
