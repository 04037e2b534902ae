import assert from "node:assert/strict";
import { Queue } from "../mod.ts";
import { buildSql } from "../src/sqlite/_ops.ts";
import { PROMOTE_BATCH, PROMOTE_MAX } from "../src/_promotion.ts";
import { eachDriver, openWith, text } from "./_helpers.ts";
import { eachEngine } from "./_engines.ts";

/** The query plan of `sql`, one detail line per step. */
function plan(
  db: { prepare(sql: string): { all(...params: null[]): Record<string, unknown>[] } },
  sql: string,
): string[] {
  const numbered = [...sql.matchAll(/\?(\d+)/g)].map((match) => Number(match[1]));
  const count = numbered.length > 0 ? Math.max(...numbered) : (sql.match(/\?/g) ?? []).length;
  return db.prepare(`explain query plan ${sql}`).all(...Array<null>(count).fill(null))
    .map((row) => String(row.detail));
}

eachDriver(
  "Queue.receive() reads qite's partial indexes and never scans the table",
  ({ db }) => {
    for (const [maxReceive, limit] of [[3, 1], [100, 10], [3, "?4"]] as const) {
      const steps = plan(db, buildSql(maxReceive).receive(limit));
      assert.ok(steps.some((s) => s.includes("USING INDEX qite_ready_idx")), steps.join("\n"));
      assert.ok(steps.some((s) => s.includes("USING INDEX qite_waiting_idx")), steps.join("\n"));
      assert.ok(!steps.some((s) => /^SCAN goqite\b/.test(s)), steps.join("\n"));
    }
  },
);

eachDriver(
  "Queue.receive() reads a bounded number of rows: every branch of its candidates seeks in " +
    "index order under a limit, and only the few candidates are sorted",
  ({ db }) => {
    for (const maxReceive of [1, 3, 32, 40]) {
      const rows = db.prepare(`explain query plan ${buildSql(maxReceive).receive(1)}`)
        .all(null, null, null);
      const steps = rows.map((row) => String(row.detail));
      const what = `maxReceive ${maxReceive}:\n${steps.join("\n")}`;
      // One seek per receive count (one range for those from 32 on), each in index order.
      const retries = steps.filter((s) => s.includes("USING INDEX qite_waiting_idx"));
      assert.equal(retries.length, Math.min(maxReceive, 32) + (maxReceive > 32 ? 1 : 0), what);
      assert.ok(retries.slice(0, 32).every((s) => /received=\? AND timeout<\?/.test(s)), what);
      // The only sort is of the union of the branches' (limited) rows.
      assert.equal(
        steps.filter((s) => s.startsWith("USE TEMP B-TREE")).length,
        maxReceive > 32 ? 2 : 1,
        what,
      );
      const sql = buildSql(maxReceive).receive(1);
      assert.equal((sql.match(/ limit /g) ?? []).length, 1 + 1 + retries.length, sql);
    }
  },
);

eachDriver(
  "Queue.receive() finds due retries behind thousands of lapsed leases in priority order",
  async (
    { db, clock },
  ) => {
    const queue = new Queue({ db, name: "q", timeout: 100, maxReceive: 5, clock: clock.fn });
    await queue.sendBatch(Array.from({ length: 2000 }, () => ({ body: "lapsed" })));
    assert.equal((await queue.receiveBatch(2000)).length, 2000);
    clock.advance(100); // every lease has lapsed: 2000 due retries
    await queue.send({ body: "fresh", priority: 1 });
    assert.equal(text((await queue.receive())!.body), "fresh", "priority first");
    const next = await queue.receiveBatch(3);
    assert.deepEqual(next.map((m) => [text(m.body), m.received]), [["lapsed", 2], ["lapsed", 2], [
      "lapsed",
      2,
    ]]);
    assert.equal((await queue.stats()).visible, 1997);
  },
);

eachDriver("Dead-message queries read qite_waiting_idx only from the dead range", ({ db }) => {
  const sql = buildSql(3);
  const listDead = sql.listDead("body, length(body) as size");
  for (const statement of [sql.countDead, listDead, sql.purgeDead, sql.redriveAll]) {
    const steps = plan(db, statement);
    assert.ok(
      steps.some((s) => s.includes("qite_waiting_idx (queue=? AND received>?)")),
      steps.join("\n"),
    );
  }
});

eachDriver("Queue.receive() skips thousands of dead and delayed messages", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", timeout: 100, maxReceive: 1, clock: clock.fn });
  // 3000 dead and 3000 far-delayed messages, all older than the one visible message.
  await queue.sendBatch(Array.from({ length: 3000 }, () => ({ body: "dead" })));
  assert.equal((await queue.receiveBatch(3000)).length, 3000);
  await queue.sendBatch(Array.from({ length: 3000 }, () => ({ body: "later", delay: 1e9 })));
  clock.advance(100);
  await queue.send({ body: "the one" });
  assert.equal(text((await queue.receive())!.body), "the one");
  assert.equal(await queue.receive(), undefined);
  const stats = await queue.stats();
  assert.deepEqual([stats.dead, stats.delayed, stats.inFlight], [3000, 3000, 1]);
});

eachDriver("A table made by goqite without qite's indexes still works", async (
  { driver, dir },
) => {
  const db = openWith(driver, `${dir}/goqite-only.db`);
  try {
    db.exec(`create table goqite (
  id text primary key default ('m_' || lower(hex(randomblob(16)))),
  created text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  updated text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  queue text not null, body blob not null,
  timeout text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  received integer not null default 0, priority integer not null default 0
) strict;`);
    const queue = new Queue({ db, name: "q" });
    await queue.sendBatch([{ body: "a" }, { body: "b", priority: 1 }]);
    assert.deepEqual((await queue.receiveBatch(5)).map((m) => text(m.body)), ["b", "a"]);
  } finally {
    db.close();
  }
});

eachDriver("A queue with maxReceive above 32 still stops at maxReceive", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", timeout: 10, maxReceive: 40, clock: clock.fn });
  await queue.send({ body: "persistent" });
  for (let i = 1; i <= 40; i++) {
    assert.equal((await queue.receive())?.received, i);
    clock.advance(10);
  }
  assert.equal(await queue.receive(), undefined);
  assert.equal(await queue.countDead(), 1);
});

eachEngine(
  "Due delayed messages and due retries are received in goqite's order: priority, then age",
  async ({ queue: make, clock }) => {
    const queue = make({ timeout: 100, maxReceive: 3 });
    // Delayed: 16 of low priority due first, then one of high priority due a little later.
    for (let i = 0; i < 16; i++) await queue.send({ body: `low ${i}`, delay: 50 });
    await queue.send({ body: "HIGH", delay: 60, priority: 9 });
    clock.advance(200);
    assert.equal(text((await queue.receive())!.body), "HIGH");
    // Retries: the same, with leases that lapsed instead of delays.
    await queue.purge();
    await queue.sendBatch(Array.from({ length: 16 }, (_, i) => ({ body: `low ${i}` })));
    assert.equal((await queue.receiveBatch(16)).length, 16);
    clock.advance(10);
    await queue.send({ body: "HIGH", priority: 9 });
    assert.equal(text((await queue.receive())!.body), "HIGH");
    clock.advance(200); // every lease has lapsed, HIGH's last
    assert.equal(text((await queue.receive())!.body), "HIGH");
    // 100 due at once, of random priorities: received highest first, oldest first among equals.
    await queue.purge();
    const sent: Array<[number, number]> = [];
    for (let i = 0; i < 100; i++) {
      const priority = (i * 37) % 7;
      sent.push([priority, i]);
      await queue.send({ body: String(i), delay: 1 + (i % 5), priority });
      clock.advance(1);
    }
    clock.advance(100);
    const order = (await queue.receiveBatch(100)).map((m) => Number(text(m.body)));
    const expected = sent.sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
    assert.deepEqual(order, expected);
  },
);

eachEngine(
  "More due messages than one promotion moves are still received in goqite's order",
  async ({ queue: make, clock }) => {
    const queue = make({ timeout: 1000 });
    // 300 delayed messages due at once: more than one promotion moves (128) and more than a
    // receive looks at beyond the promoted ones. The one of highest priority was sent last.
    const sent = Array.from({ length: 300 }, (_, i) => ({
      body: String(i),
      delay: 300 - i,
      priority: i === 299 ? 9 : (i * 37) % 7,
    }));
    for (const message of sent) {
      await queue.send(message);
      clock.advance(1);
    }
    const order: number[] = [];
    for (let m = await queue.receive(); m; m = await queue.receive()) {
      order.push(Number(text(m.body)));
    }
    const expected = sent.map((m, i) => [m.priority, i] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
    assert.deepEqual(order, expected);
  },
);

eachEngine(
  `One promotion moves at most ${PROMOTE_MAX} due messages, the earliest due first; while ` +
    `more are due, the queue moves ${PROMOTE_BATCH} more for every ${PROMOTE_BATCH} it receives`,
  async ({ queue: make, clock, sql }) => {
    const queue = make();
    const count = PROMOTE_MAX + PROMOTE_BATCH + 100;
    // Due in reverse order of sending: message i is due at 2 * count - i, and has priority i, so
    // that a promoted message always comes before one not yet promoted.
    await queue.sendBatch(
      Array.from({ length: count }, (_, i) => ({
        body: String(i),
        delay: 2 * count - i,
        priority: i,
      })),
    );
    const ready = async (): Promise<number> =>
      Number((await sql("select count(*) as n from goqite where timeout <= created"))[0]!.n);
    const receive = async (times: number): Promise<void> => {
      for (let i = 0; i < times; i++) {
        clock.advance(10);
        assert.ok(await queue.receive());
      }
    };
    assert.equal(await ready(), 0);
    clock.advance(2 * count + 1);
    const first = await queue.receive();
    // The PROMOTE_MAX due earliest moved (the last sent); the rest wait for the next promotions.
    assert.equal(text(first!.body), String(count - 1));
    assert.equal(await ready(), PROMOTE_MAX - 1);
    const [lowest] = await sql("select min(priority) as p from goqite where timeout <= created");
    assert.equal(Number(lowest!.p), count - PROMOTE_MAX);
    await receive(PROMOTE_BATCH - 1);
    assert.equal(
      await ready(),
      PROMOTE_MAX - PROMOTE_BATCH,
      "no promotion before a batch was received",
    );
    await receive(1);
    assert.equal(await ready(), PROMOTE_MAX - 1, "one batch moved for the batch received");
    await receive(PROMOTE_BATCH);
    assert.equal(await ready(), PROMOTE_MAX - PROMOTE_BATCH + 100 - 1, "then the last 100");
    // With the backlog gone, a burst of up to PROMOTE_MAX moves in one promotion again.
    const before = await ready();
    await queue.sendBatch(Array.from({ length: PROMOTE_MAX }, () => ({ body: "b", delay: 5 })));
    await receive(1);
    assert.equal(await ready(), before + PROMOTE_MAX - 1);
  },
);
