/**
 * What only the PostgreSQL engine has: its schema and goqite's, clients, server time,
 * transactions of the caller, isolation, lost connections and wake-ups across clients. The
 * behaviour both engines share is tested through `eachEngine` in the other files.
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  listQueues,
  PostgresQueue,
  type PostgresQueueOptions,
  QueueError,
  SCHEMA,
  setup,
} from "../postgres/mod.ts";
import type { PostgresDriverName } from "../postgres/mod.ts";
import { createJob, decodeJob } from "../jobs/mod.ts";
import { retried } from "../src/postgres/_errors.ts";
import { FakeClock, runScript, sleep, text } from "./_helpers.ts";
import { openClient, testClients, TestDatabase, uniqueSchema, wakeLatencies } from "./_postgres.ts";
import { wrapClient } from "../src/postgres/_client.ts";
import { wakeOf } from "../src/postgres/_wake.ts";

/** goqite's PostgreSQL schema, as goqite's own migration writes it. */
const GOQITE_ORIGINAL = `create extension if not exists pgcrypto;

create function update_timestamp()
returns trigger as $$
begin
   new.updated = now();
   return new;
end;
$$ language plpgsql;

create table goqite (
  id text primary key default ('m_' || encode(gen_random_bytes(16), 'hex')),
  created timestamptz not null default now(),
  updated timestamptz not null default now(),
  queue text not null,
  body bytea not null,
  timeout timestamptz not null default now(),
  received integer not null default 0,
  priority integer not null default 0
);

create trigger goqite_updated_timestamp
before update on goqite
for each row execute procedure update_timestamp();

create index goqite_queue_priority_created_idx on goqite (queue, priority desc, created);`;

/** A client's `unsafe`, as the tests call it. */
interface Unsafe {
  unsafe(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

/** What each case gets: a set-up schema and a way to make queues on it. */
interface Case {
  readonly driver: PostgresDriverName;
  readonly db: TestDatabase;
  /** A queue on a client of its own (as another process would have), closed afterwards. */
  queue(options?: Partial<PostgresQueueOptions>): PostgresQueue;
}

/** Declares one test per client kind, with a fresh schema. */
function eachClient(title: string, fn: (context: Case) => Promise<void>): void {
  for (const driver of testClients()) {
    test(`${title} [postgres ${driver}]`, async () => {
      const db = new TestDatabase(driver);
      const queues: PostgresQueue[] = [];
      try {
        await db.setup();
        await fn({
          driver,
          db,
          queue: (options = {}) => {
            const queue = new PostgresQueue({
              sql: db.client().sql,
              schema: db.schema,
              name: "q",
              ...options,
            });
            queues.push(queue);
            return queue;
          },
        });
      } finally {
        for (const queue of queues) await queue.close();
        await db.close();
      }
    });
  }
}

/** The columns of a `goqite` table: name, type, not null, default. */
async function columns(db: TestDatabase, schema: string): Promise<unknown[]> {
  return (await db.admin.exec(
    `select a.attname::text as name, format_type(a.atttypid, a.atttypmod) as type,
       a.attnotnull as not_null
     from pg_attribute a
     where a.attrelid = $1::text::regclass and a.attnum > 0 and not a.attisdropped
     order by a.attnum`,
    [`"${schema}".goqite`],
  )).map((row) => ({ ...row }));
}

/** The indexes and triggers of a `goqite` table. */
async function objects(db: TestDatabase, schema: string): Promise<string[]> {
  const rows = await db.admin.exec(
    `select 'index ' || indexrelid::regclass::text as d from pg_index
       where indrelid = $1::text::regclass
     union all
     select 'trigger ' || tgname from pg_trigger
       where tgrelid = $1::text::regclass and not tgisinternal
     order by 1`,
    [`"${schema}".goqite`],
  );
  return rows.map((row) => String(row.d).replace(`"${schema}".`, "").replace(`${schema}.`, ""));
}

/** Creates goqite's own table (pgcrypto ids) in a schema of its own; returns the schema. */
async function goqiteTable(db: TestDatabase): Promise<string> {
  const schema = uniqueSchema();
  await db.admin.exec("create extension if not exists pgcrypto with schema public");
  await db.admin.exec(`create schema "${schema}"`);
  const other = openClient("postgres.js", {
    max: 1,
    connection: { search_path: `"${schema}", public` },
  });
  try {
    await other.exec(GOQITE_ORIGINAL);
  } finally {
    await other.end();
  }
  return schema;
}

// Schema

eachClient("setup() creates goqite's table, trigger and index, and qite's indexes", async (
  { db },
) => {
  const theirs = await goqiteTable(db);
  try {
    assert.deepEqual(await columns(db, db.schema), await columns(db, theirs));
    assert.deepEqual(await objects(db, db.schema), [
      "index goqite_pkey",
      "index goqite_queue_priority_created_idx",
      "index qite_ready_idx",
      "index qite_waiting_idx",
      "trigger goqite_updated_timestamp",
    ]);
    // And setup() on goqite's table adds qite's indexes without touching the rest.
    await setup(db.admin.sql, { schema: theirs });
    assert.deepEqual(await objects(db, theirs), await objects(db, db.schema));
    assert.match(SCHEMA, /create table if not exists goqite/);
  } finally {
    await db.admin.exec(`drop schema "${theirs}" cascade`);
  }
});

eachClient("setup() runs again, and from several clients at once, without error", async (
  { db },
) => {
  const schema = uniqueSchema();
  const clients = [db.client(), db.client(), db.client(), db.client()];
  try {
    await Promise.all(clients.map((client) => setup(client.sql, { schema })));
    await setup(clients[0]!.sql, { schema });
    assert.equal((await objects(db, schema)).length, 5);
  } finally {
    await db.admin.exec(`drop schema if exists "${schema}" cascade`);
  }
});

eachClient("setup() refuses a goqite table that is not goqite's, changing nothing", async (
  { db },
) => {
  const schema = uniqueSchema();
  await db.admin.exec(`create schema "${schema}"`);
  try {
    await db.admin.exec(`create table "${schema}".goqite (id serial primary key, payload text)`);
    await db.admin.exec(`insert into "${schema}".goqite (payload) values ('theirs')`);
    await assert.rejects(setup(db.client().sql, { schema }), (error) => {
      assert.ok(error instanceof QueueError);
      assert.equal(error.code, "SCHEMA_MISMATCH");
      assert.match(error.message, /column id is not text not null/);
      assert.match(error.message, /column queue is missing/);
      return true;
    });
    assert.deepEqual(await objects(db, schema), ["index goqite_pkey"], "no index was created");
    const [row] = await db.admin.exec(`select payload from "${schema}".goqite`);
    assert.equal(row?.payload, "theirs");
  } finally {
    await db.admin.exec(`drop schema "${schema}" cascade`);
  }
});

eachClient("A queue rejects with NOT_SET_UP when its table does not exist", async ({ db }) => {
  const queue = new PostgresQueue({ sql: db.client().sql, schema: uniqueSchema(), name: "q" });
  await assert.rejects(queue.send({ body: "x" }), (error) => {
    assert.ok(error instanceof QueueError);
    assert.equal(error.code, "NOT_SET_UP");
    assert.equal(error.sqlState, "42P01");
    assert.match(error.message, /^Cannot send message: .*setup/);
    return true;
  });
  await queue.close();
});

eachClient("goqite's own table and goqite's statements share messages with qite", async (
  { db },
) => {
  const theirs = await goqiteTable(db);
  const go = openClient("postgres.js", { max: 1, connection: { search_path: `"${theirs}"` } });
  try {
    const queue = new PostgresQueue({ sql: db.client().sql, schema: theirs, name: "q" });
    // goqite's send: its statement, its default id, a time of its own clock.
    await go.exec(
      "insert into goqite (queue, body, timeout, priority) values ($1, $2, $3, $4) returning id",
      ["q", new TextEncoder().encode("from go"), new Date(), 1],
    );
    const fromGo = await queue.receive();
    assert.match(fromGo?.id ?? "", /^m_[0-9a-f]{32}$/);
    assert.equal(text(fromGo!.body), "from go");
    assert.equal(await queue.delete(fromGo!), true);
    // qite's send, received, extended and deleted by goqite's statements.
    const id = await queue.send({ body: "from qite", priority: 3 });
    await sleep(2); // Go's time has nanoseconds; a Date has milliseconds, the column microseconds.
    const now = new Date();
    const [received] = await go.exec(
      `update goqite set timeout = $1, received = received + 1
       where id = (select id from goqite where queue = $2 and $3 >= timeout and received < $4
         order by priority desc, created limit 1)
       returning id, body`,
      [new Date(now.getTime() + 5000), "q", now, 3],
    );
    assert.equal(received?.id, id);
    assert.equal(text(received!.body as Uint8Array), "from qite");
    await go.exec("update goqite set timeout = $1 where queue = $2 and id = $3", [
      new Date(now.getTime() + 60_000),
      "q",
      id,
    ]);
    assert.equal((await queue.stats()).inFlight, 1);
    await go.exec("delete from goqite where queue = $1 and id = $2", ["q", id]);
    assert.equal((await queue.stats()).total, 0);
    await queue.close();
  } finally {
    await go.end();
    await db.admin.exec(`drop schema "${theirs}" cascade`);
  }
});

eachClient("A backlog sent by goqite's statements is received in goqite's order", async (
  { db },
) => {
  const theirs = await goqiteTable(db);
  const go = openClient("postgres.js", { max: 1, connection: { search_path: `"${theirs}"` } });
  const begin = (go.sql as {
    begin(mode: string, fn: (tx: typeof go.sql & Unsafe) => Promise<unknown>): Promise<unknown>;
  }).begin;
  try {
    await setup(db.client().sql, { schema: theirs });
    // goqite's send, 300 times: a serializable transaction in which its insert binds the time
    // of its own clock, read after the transaction began, so after the row's `created` (the
    // transaction's start). A Date holds milliseconds: the clock's time is rounded up to one.
    // The message of highest priority is sent last.
    const priorities = Array.from({ length: 300 }, (_, i) => i === 299 ? 9 : (i * 37) % 7);
    for (const [i, priority] of priorities.entries()) {
      await begin.call(go.sql, "isolation level serializable", async (tx) => {
        const [clock] = await tx.unsafe(
          "select ceil(extract(epoch from clock_timestamp()) * 1000)::float8 as ms",
        );
        await tx.unsafe(
          "insert into goqite (queue, body, timeout, priority) values ($1, $2, $3, $4) returning id",
          ["q", new TextEncoder().encode(String(i)), new Date(Number(clock!.ms)), priority],
        );
      });
    }
    const [waiting] = await db.admin.exec(
      `select count(*)::int4 as n from "${theirs}".goqite where timeout > created`,
    );
    assert.equal(waiting?.n, 300, "goqite's times are after the rows' created times");
    const queue = new PostgresQueue({ sql: db.client().sql, schema: theirs, name: "q" });
    const order: number[] = [];
    for (let m = await queue.receive(); m; m = await queue.receive()) {
      order.push(Number(text(m.body)));
    }
    await queue.close();
    const expected = priorities.map((priority, i) => [priority, i] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
    assert.deepEqual(order, expected);
  } finally {
    await go.end();
    await db.admin.exec(`drop schema "${theirs}" cascade`);
  }
});

eachClient("listQueues() lists the names of queues with messages, sorted", async (
  { db, queue },
) => {
  const sql = db.client().sql;
  assert.deepEqual(await listQueues(sql, { schema: db.schema }), []);
  for (const name of ["reports", "emails", "a'b", "emails"]) {
    await queue({ name }).send({ body: "x" });
  }
  assert.deepEqual(await listQueues(sql, { schema: db.schema }), ["a'b", "emails", "reports"]);
});

// Arguments

eachClient("new PostgresQueue() throws at once on misuse, naming the option", async ({ db }) => {
  const sql = db.client().sql;
  const make = (options: Partial<PostgresQueueOptions>) => () =>
    new PostgresQueue({ sql, name: "q", ...options } as PostgresQueueOptions);
  assert.throws(make({ sql: undefined as unknown as object }), /'sql'/);
  assert.throws(make({ sql: {} }), TypeError);
  assert.throws(make({ sql: "postgres://x" as unknown as object }), TypeError);
  assert.throws(make({ name: "" }), /'name'/);
  assert.throws(make({ schema: "" }), /'schema'/);
  assert.throws(make({ schema: "x".repeat(64) }), /'schema'/);
  assert.throws(make({ timeout: 0 }), RangeError);
  assert.throws(make({ maxReceive: 0 }), RangeError);
  assert.throws(make({ retryTimeout: -1 }), /'retryTimeout'/);
  assert.throws(make({ clock: 5 as unknown as () => number }), /'clock'/);
  await (db.client().sql as { begin(fn: (tx: object) => Promise<void>): Promise<void> }).begin(
    (tx) => {
      assert.throws(make({ sql: tx }), /not a transaction/);
      return Promise.resolve();
    },
  );
});

eachClient("Priorities outside PostgreSQL's integer column are refused before any write", async (
  { db, queue },
) => {
  const q = queue();
  for (const priority of [2 ** 31, -(2 ** 31) - 1, 2n ** 40n, 2 ** 53 - 1]) {
    await assert.rejects(
      q.send({ body: "x", priority }),
      (error: Error) =>
        error instanceof RangeError &&
        /'priority'.*PostgreSQL's integer column/.test(error.message),
    );
    await assert.rejects(q.sendBatch([{ body: "ok" }, { body: "x", priority }]), RangeError);
  }
  assert.equal(await db.count(), 0);
  await q.sendBatch([{ body: "max", priority: 2 ** 31 - 1 }, {
    body: "min",
    priority: -(2 ** 31),
  }]);
  const messages = await q.receiveBatch(2);
  assert.deepEqual(messages.map((m) => m.priority), [2 ** 31 - 1, -(2 ** 31)]);
});

// Time

eachClient("The queue writes its clock's time, and the server's by default", async (
  { db, queue },
) => {
  const clock = new FakeClock();
  const faked = queue({ timeout: 2500, clock: clock.fn });
  const id = await faked.send({ body: "x", delay: 1500 });
  const read = async (): Promise<Record<string, unknown> | undefined> =>
    (await db.admin.exec(
      `select (extract(epoch from created) * 1000)::float8 as created,
        (extract(epoch from timeout) * 1000)::float8 as timeout,
        (extract(epoch from now()) * 1000)::float8 as now from goqite where id = $1`,
      [id],
    ))[0];
  let row = await read();
  assert.equal(row?.created, clock.now);
  assert.equal(row?.timeout, clock.now + 1500);
  clock.advance(1500);
  await faked.receive();
  row = await read();
  assert.equal(row?.timeout, clock.now + 2500);
  const real = queue({ timeout: 2500 });
  await real.extend(id, 60_000);
  row = await read();
  const serverNow = Number(row?.now);
  assert.ok(Math.abs(Number(row?.timeout) - (serverNow + 60_000)) < 5_000, "the server's now()");
});

const CHILD = fileURLToPath(new URL("./_pg_child.ts", import.meta.url));

/** Runs the child script with this runtime and returns its standard output. */
function child(args: string[]): Promise<string> {
  return runScript(CHILD, args);
}

eachClient("Processes whose clocks are off by minutes agree on delays and leases", async (
  { db, driver, queue },
) => {
  const q = queue();
  const minutes = 10 * 60_000;
  // A sender whose clock is 10 minutes behind: its delay still runs on the server's clock. The
  // clock is read before the child starts, so however long the child takes to start and exit,
  // the message cannot be due before `started` + 3 s.
  const started = Date.now();
  const sent = await child([driver, db.schema, String(-minutes), "send", "late", "3000"]);
  assert.equal(await q.receive(), undefined, "not visible before its delay");
  while (Date.now() - started < 2900) {
    assert.equal(await q.receive(), undefined);
    await sleep(100);
  }
  const message = await q.receiveAndWait({ signal: AbortSignal.timeout(8000), interval: 50 });
  assert.equal(message.id, sent);
  await q.delete(message);
  // A receiver whose clock is 10 minutes ahead: its lease still lasts 3 s, not 10 minutes.
  const id = await q.send({ body: "leased" });
  assert.equal(await child([driver, db.schema, String(minutes), "receive", "3000"]), id);
  assert.equal(await q.receive(), undefined, "hidden while the lease runs");
  const again = await q.receiveAndWait({ signal: AbortSignal.timeout(8000), interval: 50 });
  assert.equal(again.id, id);
  assert.equal(again.received, 2);
});

// Transactions

eachClient(
  "A batch with a repeated id still commits whole: no other connection sees a part of it",
  async ({ db, queue }) => {
    const q = queue();
    const admin = db.admin.sql as unknown as {
      begin(fn: (tx: Unsafe) => Promise<void>): Promise<void>;
    };
    const untouched = async (id: string): Promise<boolean> =>
      Number(
        (await db.admin.exec(
          "select count(*)::int4 as n from goqite where id = $1 and timeout <= now()",
          [id],
        ))[0]!.n,
      ) === 1;
    for (const what of ["deleteBatch", "extendBatch"] as const) {
      const [a, b] = await q.sendBatch([{ body: "a" }, { body: "b" }]);
      // Another transaction holds b's row, so the batch stops at b, after a.
      let unlock!: () => void;
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => locked = resolve);
      const holder = admin.begin(async (tx) => {
        await tx.unsafe("select 1 from goqite where id = $1 for update", [b]);
        locked();
        await new Promise<void>((resolve) => unlock = resolve);
      });
      await isLocked;
      const done = what === "deleteBatch"
        ? q.deleteBatch([a!, b!, a!])
        : q.extendBatch([a!, b!, a!], 60_000);
      for (let i = 0; i < 500; i++) {
        const [row] = await db.admin.exec(
          "select count(*)::int4 as n from pg_stat_activity where application_name = $1 " +
            "and wait_event_type = 'Lock'",
          [db.schema],
        );
        if (Number(row!.n) > 0) break;
        await sleep(10);
      }
      assert.ok(await untouched(a!), `${what}: a is untouched while the batch waits for b`);
      unlock();
      await holder;
      assert.deepEqual(
        await done,
        what === "deleteBatch" ? [true, true, false] : [
          true,
          true,
          true,
        ],
      );
      assert.equal(await untouched(a!), false, `${what}: then a is done`);
      await db.admin.exec("delete from goqite");
    }
  },
);

eachClient("queue.with(tx) sends with the caller's writes, or not at all", async (
  { db, queue },
) => {
  const q = queue();
  const sql = db.client().sql as unknown as {
    begin<T>(fn: (tx: { unsafe(text: string): Promise<unknown> }) => Promise<T>): Promise<T>;
  };
  await db.admin.exec("create table orders (id int primary key)");
  const orders = `"${db.schema}".orders`;
  const id = await sql.begin(async (tx) => {
    await tx.unsafe(`insert into ${orders} (id) values (1)`);
    return await q.with(tx).send({ body: "order 1 confirmed" });
  });
  await assert.rejects(
    sql.begin(async (tx) => {
      await tx.unsafe(`insert into ${orders} (id) values (2)`);
      await q.with(tx).sendBatch([{ body: "order 2 confirmed" }, { body: "and more" }]);
      throw new Error("payment declined");
    }),
    /payment declined/,
  );
  assert.deepEqual((await db.admin.exec("select id from orders")).map((row) => row.id), [1]);
  const message = await q.receive();
  assert.equal(message?.id, id);
  assert.equal(await q.receive(), undefined);
});

eachClient(
  "A send in a transaction wakes waiters when it commits, and never if it rolls back",
  async (
    { db, queue },
  ) => {
    const waiter = queue();
    const sender = queue();
    const sql = db.client().sql as unknown as {
      begin<T>(fn: (tx: object) => Promise<T>): Promise<T>;
    };
    let woken = false;
    const waiting = waiter.receiveAndWait({ interval: 60_000, signal: AbortSignal.timeout(10_000) })
      .then((message) => {
        woken = true;
        return message;
      });
    await sleep(50);
    await assert.rejects(sql.begin(async (tx) => {
      await sender.with(tx).send({ body: "rolled back" });
      throw new Error("no");
    }));
    let release: () => void = () => {};
    const committed = sql.begin(async (tx) => {
      await sender.with(tx).send({ body: "committed" });
      await new Promise<void>((resolve) => release = resolve);
    });
    await sleep(100);
    assert.equal(woken, false, "not before the commit");
    release();
    await committed;
    const message = await waiting;
    assert.equal(text(message.body), "committed");
  },
);

eachClient("stats() gives the oldest visible message's age in whole milliseconds", async (
  { queue },
) => {
  const q = queue();
  await q.send({ body: "ageing" });
  await sleep(3);
  const ages = [];
  for (let i = 0; i < 5; i++) ages.push((await q.stats()).oldestVisibleAge);
  for (const age of ages) assert.ok(Number.isInteger(age) && age! >= 0, `${ages}`);
});

eachClient(
  "Inside a long transaction, queue.with(tx) times leases and delays from each statement, not from the transaction's start",
  async ({ db, queue }) => {
    const q = queue({ timeout: 1000 });
    const other = queue({ timeout: 1000 });
    const sql = db.client().sql as unknown as {
      begin<T>(fn: (tx: object) => Promise<T>): Promise<T>;
    };
    await q.send({ body: "leased late" });
    const [message, delayed] = await sql.begin(async (tx) => {
      await sleep(1500); // the transaction is old now: now() is 1.5 s behind the clock
      const inside = q.with(tx);
      const received = await inside.receive();
      assert.ok(received);
      return [received, await inside.send({ body: "delayed late", delay: 1000 })] as const;
    });
    // Both lasts 1 s from their statements, which ran less than 1 s ago.
    assert.equal(await other.receive(), undefined, "the lease holds after the commit");
    const peeked = (await other.peek({ state: "delayed" })).map((m) => m.id);
    assert.deepEqual(peeked, [delayed], "the delay runs after the commit");
    const again = await other.receiveAndWait({ signal: AbortSignal.timeout(5000), interval: 50 });
    assert.equal(again.id, message.id, "the lease lapses in time");
  },
);

eachClient("queue.with(tx) receives, extends and deletes inside the transaction", async (
  { db, queue },
) => {
  const q = queue();
  const sql = db.client().sql as unknown as {
    begin<T>(fn: (tx: object) => Promise<T>): Promise<T>;
  };
  await q.sendBatch([{ body: "a" }, { body: "b" }]);
  await assert.rejects(sql.begin(async (tx) => {
    const inside = q.with(tx);
    const [a, b] = await inside.receiveBatch(2);
    assert.ok(a && b);
    assert.equal(await inside.extend(a, 60_000), true);
    assert.deepEqual(await inside.deleteBatch([a, b]), [true, true]);
    throw new Error("roll back");
  }));
  assert.equal((await q.stats()).visible, 2, "everything rolled back");
  const done = await sql.begin(async (tx) => {
    const inside = q.with(tx);
    const message = await inside.receive();
    assert.ok(message);
    return await inside.delete(message);
  });
  assert.equal(done, true);
  assert.equal((await q.stats()).total, 1);
  assert.throws(() => q.with({}), TypeError);
  assert.throws(() => q.with(sql), /not the client itself/);
  assert.throws(() => q.with(q.sql), /not the client itself/);
});

eachClient("createJob() creates a job inside the caller's transaction", async ({ db, queue }) => {
  const q = queue({ name: "jobs" });
  const sql = db.client().sql as unknown as {
    begin<T>(fn: (tx: object) => Promise<T>): Promise<T>;
  };
  await assert.rejects(sql.begin(async (tx) => {
    await createJob(q.with(tx), "send-welcome", "bob@example.com");
    throw new Error("no");
  }));
  const id = await sql.begin((tx) => createJob(q.with(tx), "send-welcome", "alice@example.com"));
  const message = await q.receive();
  assert.equal(message?.id, id);
  const job = decodeJob(message!.body);
  assert.equal(job.name, "send-welcome");
  assert.equal(text(job.body), "alice@example.com");
  assert.equal(await q.receive(), undefined);
});

// Receipts

eachClient(
  "Receipts keep microseconds: a release and a new receive in the same millisecond differ",
  async (
    { queue },
  ) => {
    const clock = new FakeClock();
    const q = queue({ clock: clock.fn });
    await q.send({ body: "x" });
    const first = await q.receive();
    assert.ok(first);
    assert.equal(await q.release(first), true);
    const second = await q.receive();
    assert.ok(second);
    assert.equal(second.received, first.received, "the release did not count");
    assert.notEqual(second.delivery, first.delivery);
    assert.equal(await q.delete(first), false, "the stale receipt is refused");
    assert.equal(await q.extend(first, 1000), false);
    assert.equal(await q.delete(second), true);
  },
);

// Isolation and concurrency

/** Drains `count` messages with `consumers` queues at once; returns every id received. */
async function drain(queues: PostgresQueue[], count: number): Promise<string[]> {
  const seen: string[] = [];
  await Promise.all(queues.map(async (queue) => {
    while (seen.length < count) {
      const messages = await queue.receiveBatch(3);
      if (messages.length === 0) {
        await sleep(1);
        continue;
      }
      seen.push(...messages.map((m) => m.id));
      assert.deepEqual(await queue.deleteBatch(messages), messages.map(() => true));
    }
  }));
  return seen;
}

eachClient("Concurrent consumers on their own clients receive each message once", async (
  { queue },
) => {
  const producer = queue({ timeout: 60_000 });
  const ids = await producer.sendBatch(Array.from({ length: 300 }, (_, i) => ({ body: `${i}` })));
  const conflicts = retried.conflict;
  const consumers = Array.from({ length: 4 }, () => queue({ timeout: 60_000 }));
  const seen = await drain(consumers, ids.length);
  assert.equal(seen.length, ids.length, "nothing twice");
  assert.deepEqual(seen.toSorted(), ids.toSorted(), "nothing lost");
  assert.equal(retried.conflict, conflicts, "no serialization failure at READ COMMITTED");
});

eachClient(
  "A server whose default isolation is SERIALIZABLE still gives no serialization failures",
  async (
    { db },
  ) => {
    const serializable = { connection: { default_transaction_isolation: "serializable" } };
    const open = (): PostgresQueue =>
      new PostgresQueue({
        sql: db.client(serializable).sql,
        schema: db.schema,
        name: "q",
        timeout: 60_000,
      });
    const producer = open();
    const ids = await producer.sendBatch(Array.from({ length: 200 }, (_, i) => ({ body: `${i}` })));
    const conflicts = retried.conflict;
    const consumers = Array.from({ length: 4 }, open);
    try {
      const seen = await drain(consumers, ids.length);
      assert.deepEqual(seen.toSorted(), ids.toSorted());
      assert.equal(retried.conflict, conflicts, "each statement ran at READ COMMITTED");
    } finally {
      for (const queue of [producer, ...consumers]) await queue.close();
    }
  },
);

eachClient("Priority order is exact for one consumer across fresh messages and retries", async (
  { queue },
) => {
  const clock = new FakeClock();
  const q = queue({ clock: clock.fn, timeout: 100 });
  await q.send({ body: "retry, priority 2", priority: 2 });
  assert.ok(await q.receive());
  clock.advance(1);
  await q.sendBatch([
    { body: "priority 1", priority: 1 },
    { body: "priority 3", priority: 3 },
    { body: "delayed, priority 4", priority: 4, delay: 50 },
    { body: "priority 0" },
  ]);
  clock.advance(100);
  const order: string[] = [];
  for (let m = await q.receive(); m; m = await q.receive()) order.push(text(m.body));
  assert.deepEqual(order, [
    "delayed, priority 4",
    "priority 3",
    "retry, priority 2",
    "priority 1",
    "priority 0",
  ]);
});

// Lost connections

eachClient("Operations survive the server ending every connection of their client", async (
  { db, queue },
) => {
  const q = queue({ timeout: 60_000 });
  let stop = false;
  let sent = 0;
  let deleted = 0;
  const work = (async () => {
    while (!stop) {
      assert.match(await q.send({ body: "x" }), /^m_/);
      sent++;
      // A receive whose commit was lost with its connection leaves its message in flight.
      const message = await q.receive();
      if (message !== undefined && await q.delete(message)) deleted++;
    }
  })();
  let terminated = 0;
  for (let round = 0; round < 5; round++) {
    await sleep(60);
    terminated += await db.terminate();
  }
  stop = true;
  await work;
  assert.ok(terminated >= 5, `ended ${terminated} connections`);
  assert.ok(deleted > 0);
  assert.equal((await q.stats()).total, sent - deleted, "nothing lost, nothing sent twice");
});

eachClient("A client its owner ended makes operations fail with CLOSED", async ({ db }) => {
  const client = openClient(db.driver, { max: 1 });
  const queue = new PostgresQueue({ sql: client.sql, schema: db.schema, name: "q" });
  await queue.send({ body: "x" });
  await client.end();
  await assert.rejects(queue.send({ body: "y" }), { name: "QueueError", code: "CLOSED" });
  await assert.rejects(queue.receive(), { name: "QueueError", code: "CLOSED" });
  await queue.close();
});

// Wake-ups

/** The median time from a send on `sender` to its receipt by a waiter on `waiter`, in ms. */
async function wakeLatency(waiter: PostgresQueue, sender: PostgresQueue): Promise<number> {
  const rounds = { rounds: 9, spacing: 37, interval: 60_000, timeout: 10_000 };
  return (await wakeLatencies(waiter, sender, rounds))[4]!;
}

eachClient("A send on another client wakes a waiter through NOTIFY, not by polling", async (
  { db, queue },
) => {
  const waiter = queue();
  const sender = queue();
  const median = await wakeLatency(waiter, sender);
  // Without notifications, only the heartbeat (every second) would wake it: a median near 500 ms.
  assert.ok(median < 150, `median wake-up ${median.toFixed(1)} ms`);
  const wake = wakeOf(wrapClient(waiter.sql, "test"), db.schema);
  assert.equal(wake.listening, true);
});

eachClient("Waiters are still woken while the listening connection is down, and after", async (
  { db, queue },
) => {
  const waiter = queue();
  const sender = queue();
  for (let round = 0; round < 3; round++) {
    const waiting = waiter.receiveAndWait({
      interval: 60_000,
      signal: AbortSignal.timeout(10_000),
    });
    await db.listening(); // opened at the first wait, and again after each end
    assert.equal(await db.terminate("query ilike 'listen%'"), 1, "the listening connection");
    await sender.send({ body: `round ${round}` });
    const message = await waiting;
    assert.equal(text(message.body), `round ${round}`);
    await waiter.delete(message);
  }
  await sleep(1500); // the client reopens the subscription; a heartbeat confirms it
  const median = await wakeLatency(waiter, sender);
  assert.ok(median < 150, `notifications resumed: median wake-up ${median.toFixed(1)} ms`);
});

eachClient("receiveAndWait() on an abort leaves no waiter and no timer behind", async (
  { db, queue },
) => {
  const q = queue();
  const wake = wakeOf(wrapClient(q.sql, "test"), db.schema);
  const reason = new Error("stop");
  const controller = new AbortController();
  const waiting = q.receiveAndWait({ signal: controller.signal, interval: 20 });
  await sleep(1500); // past a heartbeat
  assert.equal(wake.idle, false);
  assert.equal(wake.listening, true);
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
  assert.equal(wake.idle, true);
});

// Batches

eachClient("sendBatch() that fails half-way writes nothing", async ({ db, queue }) => {
  const q = queue();
  await db.admin.exec(`create function refuse() returns trigger as $$
    begin
      if new.body = '\\xff'::bytea then raise exception 'refused by test'; end if;
      return new;
    end $$ language plpgsql`);
  await db.admin.exec(
    "create trigger refuse before insert on goqite for each row execute procedure refuse()",
  );
  await assert.rejects(
    q.sendBatch([{ body: "first" }, { body: new Uint8Array([0xff]) }, { body: "third" }]),
    (error) =>
      error instanceof QueueError && error.code === "POSTGRES" && error.sqlState === "P0001",
  );
  assert.equal(await db.count(), 0);
});

eachClient("sendBatch() keeps each entry's body, delay and priority at every batch size", async (
  { db, queue },
) => {
  const clock = new FakeClock();
  const q = queue({ clock: clock.fn });
  for (const size of [1, 2, 3, 17, 100, 1000]) {
    const messages = Array.from({ length: size }, (_, i) => ({
      body: i % 7 === 0 ? new Uint8Array(0) : `${size}:${i}:${"é".repeat(i % 5)}`,
      delay: i % 3 === 0 ? 0 : i * 1000,
      priority: (i % 5) - 2,
    }));
    const ids = await q.sendBatch(messages);
    // Times in µs after the clock's time: created 1 µs apart in send order, timeout by delay.
    const rows = await db.admin.exec(
      `select id, body, priority,
         (extract(epoch from created - $2::timestamptz) * 1000000)::float8 as created,
         (extract(epoch from timeout - $2::timestamptz) * 1000000)::float8 as timeout
       from goqite where id = any($1::text[])`,
      [`{${ids.join(",")}}`, new Date(clock.now).toISOString()],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    ids.forEach((id, i) => {
      const row = byId.get(id)!;
      const body = messages[i]!.body;
      assert.deepEqual(
        [...(row.body as Uint8Array)],
        [...(typeof body === "string" ? new TextEncoder().encode(body) : body)],
      );
      assert.equal(row.priority, messages[i]!.priority);
      assert.equal(row.created, i);
      assert.equal(row.timeout, messages[i]!.delay * 1000);
    });
  }
  // In a batch of over a thousand, a delay of 1 ms still ends after the message's created time,
  // and never before the delay: the message waits as a delayed one, not as a ready one.
  clock.advance(60_000);
  const ids = await q.sendBatch(Array.from({ length: 2000 }, () => ({ body: "d", delay: 1 })));
  const [late] = await db.admin.exec(
    `select count(*)::int4 as n from goqite
     where id = any($1::text[]) and (timeout <= created or timeout < $2::timestamptz)`,
    [`{${ids.join(",")}}`, new Date(clock.now + 1).toISOString()],
  );
  assert.equal(late?.n, 0);
  assert.equal((await q.peek({ state: "delayed", limit: 2000 })).length, 2000);
});

eachClient("Every byte value and a body of a megabyte come back intact", async ({ queue }) => {
  const q = queue();
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const big = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
  await q.sendBatch([{ body: all }, { body: big }]);
  const [a, b] = await q.receiveBatch(2);
  assert.deepEqual(a?.body, all);
  assert.equal(b?.body.length, big.length);
  assert.ok(b!.body.every((value, i) => value === big[i]));
  assert.equal(Object.getPrototypeOf(a!.body), Uint8Array.prototype);
});

eachClient(
  "A queue name PostgreSQL cannot carry is refused at once; the longest allowed one works, " +
    "even when it does not compress",
  async ({ queue }) => {
    assert.throws(() => queue({ name: "a\u0000b" }), TypeError);
    // 2048 bytes of pseudo-random CJK characters (3 bytes each), which compression cannot
    // shrink below the 2704 bytes of an index row.
    let seed = 7;
    const random = (): string => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return String.fromCodePoint(0x4e00 + (seed % 20000));
    };
    const name = Array.from({ length: 682 }, random).join("") + "ab";
    assert.equal(new TextEncoder().encode(name).length, 2048);
    assert.throws(() => queue({ name: name + "c" }), RangeError);
    assert.throws(() => queue({ name: "é".repeat(1025) }), RangeError);
    const long = queue({ name });
    await long.sendBatch([{ body: "x" }, { body: "y", delay: 60_000 }]);
    const message = await long.receive();
    assert.equal(text(message!.body), "x");
    assert.equal(await long.delete(message!), true);
    assert.equal((await long.stats()).total, 1);
  },
);
