import assert from "node:assert/strict";
import { GOQITE_SCHEMA, Queue, setup } from "../mod.ts";
import { eachDriver, openWith, text } from "./_helpers.ts";

/** goqite's schema as goqite's own migration writes it (no "if not exists"). */
const GOQITE_ORIGINAL = `create table goqite (
  id text primary key default ('m_' || lower(hex(randomblob(16)))),
  created text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  updated text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  queue text not null,
  body blob not null,
  timeout text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  received integer not null default 0,
  priority integer not null default 0
) strict;

create trigger goqite_updated_timestamp after update on goqite begin
  update goqite set updated = strftime('%Y-%m-%dT%H:%M:%fZ') where id = old.id;
end;

create index goqite_queue_priority_created_idx on goqite (queue, priority desc, created);
`;

function columns(db: { prepare(sql: string): { all(): Record<string, unknown>[] } }): unknown[] {
  return db.prepare("pragma table_xinfo(goqite)").all().map((row) => ({ ...row }));
}

eachDriver("setup() creates goqite's exact table, trigger and index", ({ db }) => {
  const goqite = db.prepare("select sql from sqlite_master where name = 'goqite'").get();
  assert.match(String(goqite?.sql), /^CREATE TABLE goqite \(/);
  assert.equal(
    db.prepare("select count(*) as n from sqlite_master where name in (?, ?)").get(
      "goqite_updated_timestamp",
      "goqite_queue_priority_created_idx",
    )?.n,
    2,
  );
  assert.deepEqual(
    GOQITE_SCHEMA.replace(/ if not exists/g, ""),
    GOQITE_ORIGINAL,
    "the exported schema is goqite's, made idempotent",
  );
});

eachDriver("setup() matches a table created by goqite's own migration", ({ driver, dir }) => {
  const ours = openWith(driver, `${dir}/ours.db`);
  const theirs = openWith(driver, `${dir}/theirs.db`);
  try {
    setup(ours);
    theirs.exec(GOQITE_ORIGINAL);
    assert.deepEqual(columns(ours), columns(theirs));
    const describe = (db: typeof ours): string[] =>
      db.prepare(
        "select type || ' ' || name || ' ' || tbl_name as d from sqlite_master " +
          "where name like 'goqite%' order by name",
      ).all().map((row) => String(row.d));
    assert.deepEqual(describe(ours), describe(theirs));
    // And setup() on goqite's table adds qite's indexes without touching the rest.
    setup(theirs);
    assert.equal(
      theirs.prepare("select count(*) as n from sqlite_master where name like 'qite_%'").get()?.n,
      2,
    );
  } finally {
    ours.close();
    theirs.close();
  }
});

eachDriver("setup() is safe to call again and keeps the messages", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  await queue.send({ body: "kept" });
  setup(db);
  setup(db.native);
  assert.equal(text((await queue.receive())!.body), "kept");
});

eachDriver("The trigger keeps 'updated' current when a message is received", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const id = await queue.send({ body: "x" });
  db.prepare("update goqite set updated = '2000-01-01T00:00:00.000Z' where id = ?").run(id);
  await queue.receive();
  const updated = String(db.prepare("select updated from goqite where id = ?").get(id)?.updated);
  assert.match(updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.notEqual(updated, "2000-01-01T00:00:00.000Z");
});

eachDriver("A message written as goqite writes it is received by qite", async ({ db }) => {
  // goqite's send: timeout from Go's clock, created from SQLite's default, id from the default.
  const now = new Date().toISOString();
  db.prepare("insert into goqite (queue, body, timeout, priority) values (?, ?, ?, ?)").run(
    "shared",
    new TextEncoder().encode("from go"),
    now,
    0,
  );
  const queue = new Queue({ db, name: "shared" });
  const message = await queue.receive();
  assert.ok(message);
  assert.match(message.id, /^m_[0-9a-f]{32}$/);
  assert.equal(text(message.body), "from go");
});

eachDriver("A message sent by qite is received by goqite's receive statement", async ({ db }) => {
  const queue = new Queue({ db, name: "shared" });
  const id = await queue.send({ body: "from ts", priority: 1 });
  const now = new Date(Date.now() + 10).toISOString();
  const row = db.prepare(`update goqite set timeout = ?, received = received + 1
    where id = (select id from goqite where queue = ? and ? >= timeout and received < ?
      order by priority desc, created limit 1)
    returning id, body`).get(new Date(Date.now() + 5000).toISOString(), "shared", now, 3);
  assert.equal(row?.id, id);
  assert.equal(text(row?.body as Uint8Array), "from ts");
});

eachDriver(
  "setup() replaces the first version's indexes with qite_ready_idx and qite_waiting_idx",
  (
    { db },
  ) => {
    db.exec("drop index qite_ready_idx; drop index qite_waiting_idx");
    db.exec(`create index qite_fresh_idx on goqite (queue, priority desc, created)
  where received = 0 and timeout <= created;
create index qite_other_idx on goqite (queue, received, timeout)
  where not (received = 0 and timeout <= created);`);
    setup(db);
    const indexes = db.prepare(
      "select name from sqlite_master where type = 'index' and name like 'qite_%' order by name",
    ).all().map((row) => row.name);
    assert.deepEqual(indexes, ["qite_ready_idx", "qite_waiting_idx"]);
  },
);
