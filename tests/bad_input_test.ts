import assert from "node:assert/strict";
import { Queue, QueueError, setup } from "../mod.ts";
import { eachDriver, openWith, text } from "./_helpers.ts";
import { eachEngine, type EngineContext } from "./_engines.ts";

/** Every row of the table, as plain values, for before/after comparisons. */
async function snapshot(sql: EngineContext["sql"]): Promise<string> {
  return JSON.stringify(
    (await sql("select * from goqite order by id")).map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) {
        out[key] = value instanceof Uint8Array ? [...value] : value;
      }
      return out;
    }),
  );
}

const BAD_NUMBERS: unknown[] = [
  -1,
  -0.5,
  1.5,
  Number.NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  "5",
  null,
  true,
  {},
  [],
  10n,
];

/** Priorities beyond 64 bits, refused as bigints. */
const BAD_PRIORITIES: bigint[] = [2n ** 63n, -(2n ** 63n) - 1n];

eachEngine(
  "Bad arguments to every Queue method get TypeError or RangeError and change nothing",
  async ({ queue: open, sql }) => {
    const queue = open({ name: "q", maxBodySize: 1024 });
    const id = await queue.send({ body: "existing" });
    await queue.send({ body: "received" });
    const received = (await queue.receive())!;
    const before = await snapshot(sql);
    const calls: Array<[string, () => Promise<unknown>]> = [];
    for (const value of BAD_NUMBERS) {
      calls.push([
        `send delay ${String(value)}`,
        () => queue.send({ body: "x", delay: value as number }),
      ]);
      if (
        (typeof value !== "number" || !Number.isSafeInteger(value)) && typeof value !== "bigint"
      ) {
        calls.push([
          `send priority ${String(value)}`,
          () => queue.send({ body: "x", priority: value as number }),
        ]);
      }
      calls.push([`extend ${String(value)}`, () => queue.extend(id, value as number)]);
      if (typeof value === "bigint") {
        for (const priority of BAD_PRIORITIES) {
          calls.push([`send priority ${priority}n`, () => queue.send({ body: "x", priority })]);
        }
      }
      calls.push([`extendBatch ${String(value)}`, () => queue.extendBatch([id], value as number)]);
      calls.push([`receiveBatch ${String(value)}`, () => queue.receiveBatch(value as number)]);
      calls.push([`peek ${String(value)}`, () => queue.peek({ limit: value as number })]);
      calls.push([`listDead ${String(value)}`, () => queue.listDead({ limit: value as number })]);
    }
    for (const body of [undefined, null, 42, {}, [1, 2], new ArrayBuffer(4), new Uint16Array(2)]) {
      calls.push([`send body ${String(body)}`, () => queue.send({ body: body as string })]);
      calls.push([
        `sendBatch body ${String(body)}`,
        () => queue.sendBatch([{ body: "fine" }, { body: body as string }]),
      ]);
    }
    calls.push(["send huge body", () => queue.send({ body: new Uint8Array(1025) })]);
    calls.push([
      "sendBatch huge body",
      () => queue.sendBatch([{ body: "fine" }, { body: "x".repeat(2000) }]),
    ]);
    for (const target of [undefined, null, "", 5, {}, { id }, { id, received: "1" }, [id]]) {
      calls.push([`delete ${JSON.stringify(target)}`, () => queue.delete(target as string)]);
      calls.push([
        `extend target ${JSON.stringify(target)}`,
        () => queue.extend(target as string, 5),
      ]);
      calls.push([
        `deleteBatch ${JSON.stringify(target)}`,
        () => queue.deleteBatch([received, target as string]),
      ]);
    }
    for (const list of [undefined, null, "m_x", 5, { length: 1 }]) {
      calls.push([`sendBatch ${String(list)}`, () => queue.sendBatch(list as [])]);
      calls.push([`deleteBatch ${String(list)}`, () => queue.deleteBatch(list as [])]);
    }
    calls.push(["redrive 5", () => queue.redrive(5 as unknown as string)]);
    calls.push(["redrive ['']", () => queue.redrive([""])]);
    calls.push(["listDead cursor", () => queue.listDead({ cursor: "'; drop table goqite; --" })]);
    calls.push(["receiveAndWait interval", () => queue.receiveAndWait({ interval: -1 })]);
    calls.push([
      "receiveAndWait signal",
      () => queue.receiveAndWait({ signal: {} as AbortSignal }),
    ]);
    for (const [label, call] of calls) {
      const error = await call().then(() => undefined, (e: unknown) => e);
      assert.ok(
        error instanceof TypeError || error instanceof RangeError,
        `${label}: expected TypeError or RangeError, got ${String(error)}`,
      );
      assert.match(error.message, /^Cannot [a-z ]+/, `${label}: ${error.message}`);
    }
    assert.ok(calls.length > 140, `tried ${calls.length} bad calls`);
    assert.equal(await snapshot(sql), before, "the table is unchanged");
  },
);

eachEngine("Queue names with quotes and SQL in them are plain names", async (
  { queue: open, count },
) => {
  const names = [
    "'; drop table goqite; --",
    '" or 1=1 --',
    "q' union select * from sqlite_master --",
    "名前 with spaces\tand\nnewlines",
    "%_*",
  ];
  for (const name of names) {
    const queue = open({ name });
    await queue.send({ body: name });
  }
  for (const name of names) {
    const queue = open({ name });
    const messages = await queue.receiveBatch(10);
    assert.deepEqual(messages.map((m) => text(m.body)), [name]);
    assert.equal((await queue.stats()).total, 1);
  }
  assert.equal(await count(), names.length);
  assert.equal(await open({ name: "%" }).purge(), 0, "no pattern matching on names");
});

eachDriver("Every operation on a closed database fails with CLOSED and writes nothing", async (
  { connect },
) => {
  const db = connect();
  const queue = new Queue({ db, name: "q" });
  const id = await queue.send({ body: "x" });
  db.close();
  const operations: Array<() => Promise<unknown>> = [
    () => queue.send({ body: "y" }),
    () => queue.sendBatch([{ body: "y" }]),
    () => queue.receive(),
    () => queue.receiveBatch(2),
    () => queue.receiveAndWait(),
    () => queue.extend(id, 10),
    () => queue.delete(id),
    () => queue.deleteBatch([id]),
    () => queue.peek(),
    () => queue.stats(),
    () => queue.listDead(),
    () => queue.countDead(),
    () => queue.redrive(),
    () => queue.purge(),
    () => queue.purgeDead(),
  ];
  for (const operation of operations) {
    await assert.rejects(
      operation(),
      (error) => error instanceof QueueError && error.code === "CLOSED",
    );
  }
});

eachDriver("setup() refuses a goqite table that is not goqite's, changing nothing", (
  { driver, dir },
) => {
  const db = openWith(driver, `${dir}/other-app.db`);
  try {
    db.exec("create table goqite (id integer primary key, payload text)");
    db.prepare("insert into goqite (payload) values (?)").run("theirs");
    assert.throws(() => setup(db), (error) => {
      assert.ok(error instanceof QueueError);
      assert.equal(error.code, "SCHEMA_MISMATCH");
      assert.match(error.message, /column id is not TEXT/);
      assert.match(error.message, /column queue is missing/);
      return true;
    });
    assert.equal(
      db.prepare("select count(*) as n from sqlite_master where type = 'index'").get()?.n,
      0,
      "no index was created",
    );
    assert.equal(db.prepare("select payload from goqite").get()?.payload, "theirs");
  } finally {
    db.close();
  }
});
