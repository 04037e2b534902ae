import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Database, open, Queue, QueueError, setup } from "../mod.ts";
import { StandInDatabase } from "./_db_sqlite_standin.ts";
import { eachDriver, tempDir, testDrivers } from "./_helpers.ts";
import { rmSync } from "node:fs";
import { test } from "node:test";

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = tempDir();
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const builtins = testDrivers().filter((driver) => driver !== "@db/sqlite") as Array<
  "node:sqlite" | "bun:sqlite"
>;

for (const driver of builtins) {
  test(
    `open() turns on WAL, sets the busy timeout, synchronous and foreign keys [${driver}]`,
    withDir(
      (dir) => {
        using db = open(join(dir, "a.db"), { driver, busyTimeout: 1234, synchronous: "FULL" });
        const pragma = (name: string) => Object.values(db.prepare(`pragma ${name}`).get()!)[0];
        assert.equal(db.driver, driver);
        assert.equal(pragma("journal_mode"), "wal");
        assert.equal(db.busyTimeout, 1234);
        assert.equal(pragma("busy_timeout"), 0, "qite waits for locks itself, without blocking");
        assert.equal(pragma("synchronous"), 2);
        assert.equal(pragma("foreign_keys"), 1);
      },
    ),
  );

  test(
    `open() fails with CANT_OPEN for a missing directory [${driver}]`,
    withDir((dir) => {
      assert.throws(
        () => open(join(dir, "missing", "a.db"), { driver }),
        (error) =>
          error instanceof QueueError && error.code === "CANT_OPEN" && error.cause instanceof Error,
      );
    }),
  );

  test(
    `open() fails with NOT_A_DATABASE for a file that is not SQLite [${driver}]`,
    withDir(
      (dir) => {
        const path = join(dir, "notes.txt");
        writeFileSync(
          path,
          "this is not a database, just some text that is long enough ".repeat(20),
        );
        assert.throws(
          () => open(path, { driver }),
          (error) => error instanceof QueueError && error.code === "NOT_A_DATABASE",
        );
      },
    ),
  );

  test(
    `setup() fails with READONLY on a read-only connection [${driver}]`,
    withDir((dir) => {
      const path = join(dir, "ro.db");
      open(path, { driver }).close();
      using db = open(path, { driver, readOnly: true });
      assert.throws(
        () => setup(db),
        (error) => error instanceof QueueError && error.code === "READONLY",
      );
    }),
  );

  test(`open() rejects bad options with TypeError or RangeError [${driver}]`, () => {
    assert.throws(() => open(""), TypeError);
    assert.throws(() => open(":memory:", { busyTimeout: -1 }), RangeError);
    assert.throws(
      () => open(":memory:", { synchronous: "SOMETIMES" as "FULL" }),
      TypeError,
    );
    assert.throws(() => open(":memory:", { driver: "sqlite3" as "node:sqlite" }), TypeError);
  });
}

eachDriver("Database maps a constraint failure to CONSTRAINT with the SQLite code", ({ db }) => {
  db.exec("create table u (x text unique)");
  db.prepare("insert into u (x) values (?)").run("a");
  assert.throws(() => db.prepare("insert into u (x) values (?)").run("a"), (error) => {
    assert.ok(error instanceof QueueError);
    assert.equal(error.code, "CONSTRAINT");
    if (error.sqliteCode !== undefined) assert.equal(error.sqliteCode & 0xff, 19);
    assert.ok(error.cause instanceof Error);
    return true;
  });
});

eachDriver("Database.prepare() caches statements per connection", ({ db, connect }) => {
  const statement = db.prepare("select 1 as x");
  assert.equal(db.prepare("select 1 as x"), statement);
  const other = connect();
  assert.notEqual(other.prepare("select 1 as x"), statement);
  assert.equal(other.prepare("select 1 as x").get()?.x, 1);
});

eachDriver("Database.from() returns the same wrapper for the same handle", ({ db }) => {
  assert.equal(Database.from(db.native), db);
  assert.equal(Database.from(db), db);
});

eachDriver("Database.transaction() nests as a savepoint", ({ db }) => {
  db.exec("create table t (x integer)");
  db.transaction(() => {
    db.prepare("insert into t (x) values (1)").run();
    assert.throws(() =>
      db.transaction(() => {
        db.prepare("insert into t (x) values (2)").run();
        throw new Error("inner");
      })
    );
    assert.equal(db.inTransaction, true);
  });
  assert.deepEqual(db.prepare("select x from t").all().map((row) => row.x), [1]);
});

test("Database.from() refuses what is not a SQLite connection", () => {
  assert.throws(() => Database.from({}), TypeError);
  assert.throws(() => Database.from(null as unknown as object), TypeError);
  assert.throws(() => new Queue({ db: { prepare(): void {} }, name: "q" }), TypeError);
});

test(
  "Database.from() refuses a @db/sqlite handle opened without int64: true",
  withDir((dir) => {
    const handle = new StandInDatabase(join(dir, "a.db"));
    try {
      assert.throws(() => Database.from(handle), (error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /int64: true/);
        return true;
      });
    } finally {
      handle.close();
    }
    const good = new StandInDatabase(join(dir, "b.db"), { int64: true });
    const db = Database.from(good);
    assert.equal(db.driver, "@db/sqlite");
    db.close();
  }),
);

test(
  "new Queue() given a path opens, sets up and owns the database",
  withDir(async (dir) => {
    const path = join(dir, "owned.db");
    const queue = new Queue({ db: path, name: "q" });
    await queue.send({ body: "x" });
    const db = queue.db;
    await queue[Symbol.asyncDispose]();
    assert.equal(db.closed, true);
    await using again = new Queue({ db: path, name: "q" });
    assert.ok(await again.receive(), "the message was committed to the file");
  }),
);

test("open() refuses a file: URI, which the drivers read differently, and creates nothing", () => {
  const dir = tempDir();
  try {
    for (const uri of [`file:${dir}/a.db`, "file:memdb1?mode=memory", "FILE:x.db"]) {
      assert.throws(() => open(uri), TypeError, uri);
    }
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
