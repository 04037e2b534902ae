/**
 * Waiting without a thundering herd: a send wakes about as many waiters as messages became
 * visible, and only the first in line polls.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Queue } from "../mod.ts";
import { roomOf } from "../src/sqlite/_wake.ts";
import { eachDriver, sleep } from "./_helpers.ts";
import { eachEngine } from "./_engines.ts";

/** A clock that counts its readings: every receive attempt reads it once. */
function countingClock(): { fn: () => number; readonly count: number; reset(): void } {
  let count = 0;
  return {
    fn: () => {
      count++;
      return Date.now();
    },
    get count(): number {
      return count;
    },
    reset(): void {
      count = 0;
    },
  };
}

for (const sent of [1, 10]) {
  eachDriver(
    `A send of ${sent} wakes about ${sent} of 1000 waiting receivers, not all of them`,
    async ({ db, connect }) => {
      const clock = countingClock();
      const waiting = new Queue({ db, name: "herd", clock: clock.fn });
      const sender = new Queue({ db: connect(), name: "herd" });
      const controller = new AbortController();
      let received = 0;
      const waits = Array.from(
        { length: 1000 },
        () =>
          waiting.receiveAndWait({ signal: controller.signal, interval: 60_000 }).then(
            () => void received++,
            () => {},
          ),
      );
      await sleep(50);
      assert.equal(roomOf(db).size, 1000);
      clock.reset();
      if (sent === 1) await sender.send({ body: "one" });
      else await sender.sendBatch(Array.from({ length: sent }, () => ({ body: "many" })));
      await sleep(100);
      assert.equal(received, sent);
      // Each woken waiter reads the clock once per receive attempt, and the first in line once
      // more to learn when to poll next: the messages, one more try, and a little slack.
      assert.ok(clock.count <= sent + 4, `${clock.count} clock readings for ${sent} messages`);
      controller.abort();
      await Promise.all(waits);
      assert.equal(roomOf(db).size, 0);
    },
  );
}

eachDriver("Only the first waiter in line polls an idle queue", async ({ db }) => {
  const clock = countingClock();
  const queue = new Queue({ db, name: "idle", clock: clock.fn });
  const controller = new AbortController();
  const waits = Array.from(
    { length: 200 },
    () => queue.receiveAndWait({ signal: controller.signal, interval: 20 }).catch(() => {}),
  );
  await sleep(30);
  clock.reset();
  await sleep(200);
  // One poll (an attempt and the next due time) every 20 ms: about 20 readings, not 2000.
  assert.ok(clock.count <= 40, `${clock.count} clock readings in 200 ms`);
  controller.abort();
  await Promise.all(waits);
});

eachDriver("Connections to one file share one wait room, and so one watcher", ({ db, connect }) => {
  assert.equal(roomOf(db), roomOf(connect()));
});

eachDriver("A waiter on one connection wakes at once for a send on another in this process", async (
  { db, connect },
) => {
  const waiting = new Queue({ db, name: "q" });
  const sender = new Queue({ db: connect(), name: "q" });
  const started = performance.now();
  const message = waiting.receiveAndWait({ interval: 60_000, signal: AbortSignal.timeout(5000) });
  await sleep(5);
  await sender.send({ body: "now" });
  await message;
  assert.ok(performance.now() - started < 1000);
});

eachEngine(
  "A sleeping waiter takes a message that a delayed send, a release or an extend in this " +
    "process makes visible when it becomes visible, not at its interval",
  async ({ queue: make }) => {
    const queue = make({ fakeClock: false, timeout: 60_000 });
    const interval = 5000;
    const timed = async (act: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      const waiting = queue.receiveAndWait({ interval });
      await sleep(50); // the waiter has found nothing and sleeps
      await act();
      const message = await waiting;
      await queue.delete(message.id);
      return performance.now() - started;
    };
    const delayed = await timed(() => queue.send({ body: "later", delay: 200 }));
    assert.ok(delayed < 2000, `a delayed send: received after ${delayed.toFixed(0)} ms`);
    await queue.send({ body: "again" });
    const held = (await queue.receive())!;
    const released = await timed(() => queue.release(held, 200));
    assert.ok(released < 2000, `a release: received after ${released.toFixed(0)} ms`);
    await queue.send({ body: "once more" });
    const leased = (await queue.receive())!;
    const extended = await timed(() => queue.extend(leased, 200));
    assert.ok(extended < 2000, `an extend: received after ${extended.toFixed(0)} ms`);
  },
);
