import assert from "node:assert/strict";
import { type Message, Queue, type QueueOptions } from "../mod.ts";
import { eachDriver } from "./_helpers.ts";
import { eachEngine } from "./_engines.ts";

/** Asserts `fn` throws `type` with a message naming `option` and the value shown. */
function throwsNaming(
  fn: () => unknown,
  type: typeof TypeError | typeof RangeError,
  option: string,
  value: string,
): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.ok(error.message.includes(`'${option}'`), `names '${option}': ${error.message}`);
    assert.ok(error.message.endsWith(`current value is ${value}`), error.message);
    return true;
  });
}

async function rejectsNaming(
  promise: Promise<unknown>,
  type: typeof TypeError | typeof RangeError,
  option: string,
  value: string,
): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  throwsNaming(
    () => {
      throw error;
    },
    type,
    option,
    value,
  );
}

eachDriver("new Queue() throws at once on misuse, naming the option and its value", ({ db }) => {
  const make = (options: Partial<QueueOptions>) => () =>
    new Queue({ db, name: "q", ...options } as QueueOptions);
  assert.throws(() => new Queue(undefined as unknown as QueueOptions), TypeError);
  throwsNaming(make({ db: undefined as unknown as string }), TypeError, "db", "undefined");
  throwsNaming(make({ db: "" }), TypeError, "db", '""');
  throwsNaming(make({ name: "" }), TypeError, "name", '""');
  throwsNaming(make({ name: 42 as unknown as string }), TypeError, "name", "42");
  throwsNaming(make({ timeout: -1 }), RangeError, "timeout", "-1");
  throwsNaming(make({ timeout: 1.5 }), RangeError, "timeout", "1.5");
  throwsNaming(make({ timeout: Number.NaN }), RangeError, "timeout", "NaN");
  throwsNaming(make({ timeout: "5s" as unknown as number }), TypeError, "timeout", '"5s"');
  throwsNaming(make({ maxReceive: 0 }), RangeError, "maxReceive", "0");
  throwsNaming(make({ maxReceive: -3 }), RangeError, "maxReceive", "-3");
  throwsNaming(make({ maxReceive: 2.5 }), RangeError, "maxReceive", "2.5");
  throwsNaming(make({ clock: 5 as unknown as () => number }), TypeError, "clock", "5");
  assert.throws(() => new Queue({ db: {} as object, name: "q" }), TypeError);
});

eachEngine("Queue methods reject misuse with TypeError or RangeError and change nothing", async (
  { queue: open, count, sql },
) => {
  const queue = open({ name: "q" });
  const send = (message: unknown) => queue.send(message as { body: string });
  await assert.rejects(send(undefined), TypeError);
  await rejectsNaming(send({}), TypeError, "body", "undefined");
  await rejectsNaming(send({ body: 12 }), TypeError, "body", "12");
  await rejectsNaming(send({ body: "x", delay: -1 }), RangeError, "delay", "-1");
  await rejectsNaming(send({ body: "x", delay: 0.5 }), RangeError, "delay", "0.5");
  await rejectsNaming(send({ body: "x", delay: Infinity }), RangeError, "delay", "Infinity");
  await rejectsNaming(send({ body: "x", priority: 1.5 }), RangeError, "priority", "1.5");
  await rejectsNaming(
    send({ body: "x", priority: 2 ** 60 }),
    RangeError,
    "priority",
    String(2 ** 60),
  );
  await rejectsNaming(send({ body: "x", priority: "high" }), TypeError, "priority", '"high"');
  assert.equal(await count(), 0, "nothing was sent");

  const id = await queue.send({ body: "x" });
  await rejectsNaming(queue.extend(id, -5), RangeError, "delay", "-5");
  await assert.rejects(queue.extend("", 5), TypeError);
  await assert.rejects(queue.extend({ id } as unknown as Message, 5), TypeError);
  await assert.rejects(queue.delete(7 as unknown as string), TypeError);
  await assert.rejects(queue.delete(null as unknown as string), TypeError);
  await rejectsNaming(queue.receiveAndWait({ interval: 0 }), RangeError, "interval", "0");
  await rejectsNaming(queue.receiveAndWait({ interval: -1 }), RangeError, "interval", "-1");
  await rejectsNaming(
    queue.receiveAndWait({ signal: "stop" as unknown as AbortSignal }),
    TypeError,
    "signal",
    '"stop"',
  );
  const rows = await sql(
    `select received from goqite where id = '${id}' and received = 0 and timeout = created`,
  );
  assert.equal(rows.length, 1, "the message was not touched");
});

eachEngine(
  "A hole in a batch's array is refused as an entry, like undefined, and nothing is done",
  async ({ queue: open, count }) => {
    const queue = open({ name: "q" });
    const [a, b] = await queue.sendBatch([{ body: "a" }, { body: "b" }]);
    const hole = <T>(first: T, last: T): T[] => {
      const list: T[] = [first];
      list[2] = last;
      return list;
    };
    const entry1 = /entry 1/;
    await assert.rejects(queue.sendBatch(hole({ body: "x" }, { body: "y" })), entry1);
    await assert.rejects(queue.deleteBatch(hole(a!, b!)), entry1);
    await assert.rejects(queue.extendBatch(hole(a!, b!), 1000), entry1);
    await assert.rejects(queue.redrive(hole(a!, b!)), entry1);
    assert.equal(await count(), 2, "nothing was sent or deleted");
  },
);

eachDriver("Queue.transaction() rejects a missing function with TypeError", ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  assert.throws(() => queue.transaction(undefined as unknown as () => void), TypeError);
});

eachDriver(
  "A clock that returns anything but a finite number fails each operation with a TypeError and changes nothing",
  async ({ db }) => {
    for (const reading of [new Date(), "1700000000000", NaN, Infinity, 1n]) {
      const queue = new Queue({ db, name: "q", clock: (() => reading) as unknown as () => number });
      await assert.rejects(queue.send({ body: "x" }), TypeError, String(reading));
      await assert.rejects(queue.receive(), TypeError, String(reading));
    }
    assert.equal((await new Queue({ db, name: "q" }).stats()).total, 0);
  },
);

eachEngine(
  "A lone surrogate, which UTF-8 cannot carry, is refused in a queue name and a text body",
  async (
    { queue, count },
  ) => {
    assert.throws(() => queue({ name: "jobs-\uD800" }), TypeError);
    assert.throws(() => queue({ name: "jobs-\uDC00" }), TypeError);
    const q = queue({ name: "q" });
    await assert.rejects(q.send({ body: "x\uD800y" }), TypeError);
    await assert.rejects(q.sendBatch([{ body: "fine" }, { body: "\uDFFF" }]), TypeError);
    assert.equal(await count(), 0);
    await q.send({ body: "a pair is fine: \uD83D\uDE00" });
    assert.equal(await count(), 1);
  },
);
