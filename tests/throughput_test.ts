import assert from "node:assert/strict";
import { test } from "node:test";
import { Queue } from "../mod.ts";
import { createHandler, createRouter, type OperationEvent, Throughput } from "../http/mod.ts";
import { call } from "./_http.ts";
import { eachDriver } from "./_helpers.ts";

test("Throughput keeps per-second counts of whole seconds, oldest first, and drops old ones", () => {
  let now = Date.parse("2026-01-01T00:00:00.000Z");
  const throughput = new Throughput({ seconds: 4, clock: () => now });
  throughput.record({ queue: "a", operation: "send", count: 3 });
  now += 400;
  throughput.record({ queue: "a", operation: "send", count: 1 });
  throughput.record({ queue: "a", operation: "delete", count: 2 });
  // The current second is still counting, so it is not in the series yet.
  assert.deepEqual(throughput.series("a").send, [0, 0, 0, 0]);
  now += 600;
  assert.deepEqual(throughput.series("a").send, [0, 0, 0, 4]);
  assert.deepEqual(throughput.series("a").delete, [0, 0, 0, 2]);
  now += 2000;
  throughput.record({ queue: "a", operation: "receive", count: 5 });
  now += 1000;
  assert.deepEqual(throughput.series("a").send, [4, 0, 0, 0]);
  assert.deepEqual(throughput.series("a").receive, [0, 0, 0, 5]);
  now += 10_000; // longer than the window: everything has aged out, totals remain
  assert.deepEqual(throughput.series("a").send, [0, 0, 0, 0]);
  assert.deepEqual(throughput.series("a").totals, { send: 4, receive: 5, delete: 2 });
  assert.deepEqual(throughput.series("never seen").send, [0, 0, 0, 0]);
});

test("Throughput forgets the queue recorded least recently beyond maxQueues", () => {
  const throughput = new Throughput({ maxQueues: 2 });
  for (const queue of ["a", "b", "a", "c"]) {
    throughput.record({ queue, operation: "send", count: 1 });
  }
  assert.equal(throughput.series("a").totals.send, 2);
  assert.equal(throughput.series("b").totals.send, 0);
  assert.equal(throughput.series("c").totals.send, 1);
});

test("Throughput ignores malformed events and refuses bad options", () => {
  const throughput = new Throughput();
  for (
    const event of [
      { queue: "a", operation: "send", count: 0 },
      { queue: "a", operation: "send", count: Number.NaN },
      { queue: "a", operation: "purge", count: 1 },
      { queue: 1, operation: "send", count: 1 },
      undefined,
    ]
  ) throughput.record(event as unknown as OperationEvent);
  assert.equal(throughput.series("a").totals.send, 0);
  assert.throws(() => new Throughput({ seconds: 0 }), RangeError);
  assert.throws(() => new Throughput({ maxQueues: 1.5 }), RangeError);
  assert.throws(() => new Throughput({ clock: 1 as unknown as () => number }), TypeError);
});

eachDriver("The handler tells onOperation about sends, receives and applied deletes", async ({
  db,
}) => {
  const events: OperationEvent[] = [];
  const handler = createHandler(new Queue({ db, name: "q" }), {
    onOperation: (event) => events.push(event),
  });
  const b64 = (text: string): string => btoa(text);
  await call(handler, "POST", { body: { Message: { Body: b64("a") } } });
  await call(handler, "POST", { body: { Messages: [{ Body: b64("b") }, { Body: b64("c") }] } });
  const received = await call(handler, "GET", { path: "/?max=10" });
  const ids = (received.json!.Messages as { ID: string }[]).map((m) => m.ID);
  assert.equal(ids.length, 3);
  await call(handler, "DELETE", { body: { Message: { ID: ids[0] } } });
  await call(handler, "DELETE", { body: { Message: { ID: ids[0] } } }); // no longer there
  await call(handler, "DELETE", { body: { Messages: [{ ID: ids[1] }, { ID: "m_gone" }] } });
  assert.equal((await call(handler, "GET")).status, 204); // nothing received: no event
  assert.deepEqual(events, [
    { queue: "q", operation: "send", count: 1 },
    { queue: "q", operation: "send", count: 2 },
    { queue: "q", operation: "receive", count: 3 },
    { queue: "q", operation: "delete", count: 1 },
    { queue: "q", operation: "delete", count: 1 },
  ]);
});

eachDriver("An onOperation hook that throws is logged and the request still succeeds", async ({
  db,
}) => {
  const logged: string[] = [];
  const handler = createHandler(new Queue({ db, name: "q" }), {
    onOperation: () => {
      throw new Error("metrics are down");
    },
    logger: { info: (message, fields) => logged.push(`${message} ${fields?.error}`) },
  });
  const sent = await call(handler, "POST", { body: { Message: { Body: btoa("x") } } });
  assert.equal(sent.status, 200);
  assert.deepEqual(logged, ["The onOperation hook threw Error: metrics are down"]);
  assert.throws(
    () => createHandler(new Queue({ db, name: "q" }), { onOperation: 1 as never }),
    TypeError,
  );
});

eachDriver(
  "A router with a dashboard counts its queues' sends and deletes, and still calls the user's hook",
  async ({
    db,
  }) => {
    const seen: OperationEvent[] = [];
    let now = Date.parse("2026-01-01T00:00:00.000Z");
    const throughput = new Throughput({ seconds: 2, clock: () => now });
    const router = createRouter({
      db,
      dashboard: { throughput },
      onOperation: (event) => seen.push(event),
    });
    const body = JSON.stringify({ Message: { Body: btoa("x") } });
    for (let i = 0; i < 3; i++) {
      await router.fetch(new Request("http://x/queues/a", { method: "POST", body }));
    }
    now += 1000;
    assert.deepEqual(throughput.series("a").send, [0, 3]);
    assert.equal(seen.length, 3);
  },
);
