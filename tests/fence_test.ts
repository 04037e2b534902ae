/**
 * Fenced receipts, checked against a model: random sequences of receives, timeouts, extends,
 * deletes, releases, burials, redrives and sends from three consumers. A receipt must act
 * exactly while its own delivery holds the message: from its receive until the message is
 * received again, released, buried, redriven or deleted (a lease that ran out without another
 * receive still holds it, as in SQS).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Message, QueueLike } from "../mod.ts";
import { eachEngine } from "./_engines.ts";
import { random } from "./_random.ts";

const TIMEOUT = 100;
const MAX_RECEIVE = 2;
const SEED = Number(
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .QITE_FENCE_SEED ?? 20261126,
);
const SEQUENCES = 40;
const STEPS = 60;

/** What the model knows of one message. */
interface Modelled {
  received: number;
  visibleAt: number;
  /** Its `created` time: releases and redrives move it strictly forward. */
  created: number;
  /** The delivery that holds it, or 0 for none. */
  holder: number;
  alive: boolean;
}

eachEngine(
  `No stale receipt ever acts and no current one is refused, through random sequences of ` +
    `every operation (seed ${SEED}, replay with QITE_FENCE_SEED)`,
  async ({ queue: make, clock }) => {
    const next = random(SEED);
    const int = (n: number): number => Math.floor(next() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
    for (let sequence = 0; sequence < SEQUENCES; sequence++) {
      const name = `fence-${sequence}`;
      const consumers: QueueLike[] = [0, 1, 2].map(() =>
        make({ name, timeout: TIMEOUT, maxReceive: MAX_RECEIVE })
      );
      const [first] = consumers as [QueueLike];
      const model = new Map<string, Modelled>();
      const deliveries = new Map<Message, number>();
      const held: Message[][] = [[], [], []];
      let lastDelivery = 0;
      const log: string[] = [];
      const where = (): string => `sequence ${sequence}: ${log.join(", ")}`;
      const visible = (m: Modelled): boolean =>
        m.alive && m.received < MAX_RECEIVE && m.visibleAt <= clock.now;
      const dead = (m: Modelled): boolean =>
        m.alive && m.received >= MAX_RECEIVE && m.visibleAt <= clock.now;
      /** Now, or just past `created` if that is now: a bump, as releases and redrives make. */
      const bumped = (m: Modelled): number => clock.now > m.created ? clock.now : m.created + 1;
      const holds = (receipt: Message): boolean => {
        const m = model.get(receipt.id)!;
        return m.alive && m.holder === deliveries.get(receipt);
      };
      const send = async (): Promise<void> => {
        const id = await first.send({ body: "x" });
        model.set(id!, {
          received: 0,
          visibleAt: clock.now,
          created: clock.now,
          holder: 0,
          alive: true,
        });
        log.push("send");
      };
      await send();
      await send();
      for (let step = 0; step < STEPS; step++) {
        const c = int(3);
        const queue = consumers[c]!;
        const mine = held[c]!;
        // Mostly the latest receipt, sometimes an older one (stale, or not).
        const receipt = mine.length === 0
          ? undefined
          : next() < 0.6
          ? mine[mine.length - 1]!
          : pick(mine);
        const op = pick([
          "receive",
          "receive",
          "advance",
          "advance",
          "extend",
          "delete",
          "release",
          "bury",
          "redrive",
          "send",
          "delete-id",
        ]);
        log.push(`${op}@${c}`);
        if (op === "receive") {
          const message = await queue.receive();
          const candidates = [...model].filter(([, m]) => visible(m)).map(([id]) => id);
          if (message === undefined) {
            assert.deepEqual(candidates, [], `nothing received: ${where()}`);
            continue;
          }
          assert.ok(candidates.includes(message.id), `received a hidden message: ${where()}`);
          const m = model.get(message.id)!;
          m.received++;
          m.visibleAt = clock.now + TIMEOUT;
          m.holder = ++lastDelivery;
          assert.equal(message.received, m.received, `receive count: ${where()}`);
          deliveries.set(message, lastDelivery);
          mine.push(message);
        } else if (op === "advance") {
          clock.advance(pick([0, 30, 60, TIMEOUT, 150]));
        } else if (op === "send") {
          if ([...model.values()].filter((m) => m.alive).length < 4) await send();
        } else if (op === "redrive") {
          const expected = [...model.values()].filter(dead);
          assert.equal(await queue.redrive(), expected.length, `redrive count: ${where()}`);
          for (const m of expected) {
            Object.assign(m, { received: 0, visibleAt: clock.now, created: bumped(m), holder: 0 });
          }
        } else if (op === "delete-id") {
          const id = pick([...model.keys()]);
          const m = model.get(id)!;
          assert.equal(await queue.delete(id), m.alive, `delete by id: ${where()}`);
          m.alive = false;
        } else if (receipt !== undefined) {
          const expected = holds(receipt);
          const m = model.get(receipt.id)!;
          if (op === "extend") {
            const delay = pick([0, 50, 200]);
            assert.equal(await queue.extend(receipt, delay), expected, `extend: ${where()}`);
            // On its last receive, a lease never ends before the message's created time.
            if (expected) {
              m.visibleAt = m.received >= MAX_RECEIVE
                ? Math.max(clock.now + delay, m.created + 1)
                : clock.now + delay;
            }
          } else if (op === "delete") {
            assert.equal(await queue.delete(receipt), expected, `delete: ${where()}`);
            if (expected) m.alive = false;
          } else if (op === "release") {
            const delay = pick([0, 0, 50]);
            assert.equal(await queue.release(receipt, delay), expected, `release: ${where()}`);
            if (expected) {
              Object.assign(m, {
                received: m.received - 1,
                visibleAt: clock.now + delay,
                created: bumped(m),
                holder: 0,
              });
            }
          } else {
            assert.equal(await queue.bury(receipt), expected, `bury: ${where()}`);
            if (expected) {
              // Dead now, or 1 ms after its created time if that is now (it stays out of the
              // index of ready messages).
              Object.assign(m, {
                received: Math.max(m.received + 1, MAX_RECEIVE),
                visibleAt: bumped(m),
                holder: 0,
              });
            }
          }
        }
        const stats = await first.stats();
        const alive = [...model.values()].filter((m) => m.alive);
        assert.deepEqual(
          [stats.total, stats.visible, stats.dead],
          [alive.length, alive.filter(visible).length, alive.filter(dead).length],
          `stats: ${where()}`,
        );
      }
      await first.purge();
    }
  },
);

eachEngine(
  "A forged receipt (a token no delivery has, or times beyond 64 bits) acts on nothing and fails nothing",
  async ({ queue, clock }) => {
    const q = queue({ name: "q", timeout: 100, maxReceive: 1 });
    await q.sendBatch([{ body: "a" }, { body: "b" }]);
    const [a, b] = await q.receiveBatch(2) as [Message, Message];
    for (const delivery of ["1/9999999999999999999", "1/-9999999999999999999", "x", "9/0"]) {
      const forged = { ...a, delivery };
      assert.equal(await q.extend(forged, 1000), false, delivery);
      assert.equal(await q.release(forged), false, delivery);
      assert.equal(await q.bury(forged), false, delivery);
      assert.equal(await q.delete(forged), false, delivery);
      assert.deepEqual(await q.deleteBatch([forged, { ...b, delivery }]), [false, false]);
    }
    assert.deepEqual(await q.deleteBatch([{ ...a, delivery: "1/9999999999999999999" }, b]), [
      false,
      true,
    ]);
    assert.equal(await q.delete(a), true, "the real receipt still acts");
    // A cursor past every time gives an empty last page; one before every time, the first.
    await q.send({ body: "dies" });
    const dying = await q.receive();
    assert.ok(dying);
    assert.equal(await q.bury(dying), true);
    clock.advance(1); // a buried message is dead from the next millisecond
    assert.deepEqual(await q.listDead({ cursor: "9999999999999999999 m_x" }), {
      messages: [],
      cursor: undefined,
    });
    const first = await q.listDead({ cursor: "-9999999999999999999 m_x" });
    assert.equal(first.messages.length, 1);
  },
);

eachEngine(
  "An id with U+0000, which no message has, applies to nothing in every operation",
  async ({ queue }) => {
    const q = queue({ name: "q", timeout: 100, maxReceive: 1 });
    const id = await q.send({ body: "real" });
    const [real] = await q.receiveBatch(1) as [Message];
    const nul = "m_\u0000";
    assert.equal(await q.delete(nul), false);
    assert.equal(await q.extend(nul, 1000), false);
    assert.deepEqual(await q.deleteBatch([nul, "m_other\u0000"]), [false, false]);
    assert.deepEqual(await q.extendBatch([nul, real], 1000), [false, true]);
    assert.equal(await q.release({ id: nul, delivery: real.delivery }), false);
    assert.equal(await q.bury({ id: nul, delivery: real.delivery }), false);
    assert.equal(await q.redrive([nul]), 0);
    const { deleted } = await q.deleteAndReceive([nul, real], 1);
    assert.deepEqual(deleted, [false, true]);
    assert.equal((await q.stats()).total, 0, `${id} deleted, nothing else touched`);
  },
);
