import assert from "node:assert/strict";
import { Queue, QueueError } from "../mod.ts";
import { eachDriver, text } from "./_helpers.ts";

function orders(db: { exec(sql: string): void }): void {
  db.exec("create table orders (id integer primary key, total integer not null)");
}

eachDriver("Queue.transaction() commits a message together with the caller's writes", async (
  { db },
) => {
  orders(db);
  const queue = new Queue({ db, name: "emails" });
  const id = queue.transaction((tx) => {
    db.prepare("insert into orders (id, total) values (?, ?)").run(1, 1999);
    return tx.send({ body: "order 1 confirmed" });
  });
  assert.match(id, /^m_/);
  assert.equal(db.prepare("select count(*) as n from orders").get()?.n, 1);
  assert.equal((await queue.receive())?.id, id);
});

eachDriver("Queue.transaction() rolls a message back together with the caller's writes", async (
  { db },
) => {
  orders(db);
  const queue = new Queue({ db, name: "emails" });
  const failure = new Error("payment declined");
  assert.throws(
    () =>
      queue.transaction((tx) => {
        db.prepare("insert into orders (id, total) values (?, ?)").run(2, 500);
        tx.send({ body: "order 2 confirmed" });
        throw failure;
      }),
    (error) => error === failure,
  );
  assert.equal(db.prepare("select count(*) as n from orders").get()?.n, 0);
  assert.equal(await queue.receive(), undefined);
  assert.equal(db.inTransaction, false);
});

eachDriver("Queue.transaction() joins a transaction the caller opened on the handle", async (
  { db },
) => {
  orders(db);
  const queue = new Queue({ db, name: "emails" });
  db.exec("begin immediate");
  db.prepare("insert into orders (id, total) values (?, ?)").run(3, 700);
  queue.transaction((tx) => tx.send({ body: "order 3 confirmed" }));
  assert.equal(db.inTransaction, true, "the caller's transaction is still open");
  db.exec("rollback");
  assert.equal(db.prepare("select count(*) as n from orders").get()?.n, 0);
  assert.equal(await queue.receive(), undefined, "the message rolled back with the caller");
});

eachDriver("Queue.transaction() receives, extends and deletes inside the transaction", async (
  { db, clock },
) => {
  const queue = new Queue({ db, name: "q", clock: clock.fn });
  await queue.send({ body: "a" });
  await queue.send({ body: "b" });
  assert.throws(() =>
    queue.transaction((tx) => {
      const a = tx.receive();
      assert.ok(a);
      assert.equal(tx.delete(a), true);
      throw new Error("undo");
    })
  );
  const taken = queue.transaction((tx) => {
    const message = tx.receive();
    assert.ok(message);
    assert.equal(tx.extend(message, 60_000), true);
    return text(message.body);
  });
  assert.equal(taken, "a", "the rolled-back receive left 'a' first in line");
  assert.equal(text((await queue.receive())!.body), "b");
  assert.equal(await queue.receive(), undefined);
});

eachDriver("Queue.transaction() rejects a function that returns a promise", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  assert.throws(
    () =>
      queue.transaction((tx) => {
        tx.send({ body: "x" });
        return Promise.resolve(1);
      }),
    TypeError,
  );
  assert.equal(await queue.receive(), undefined);
  assert.equal(db.inTransaction, false);
  // An async function fails after its await (the transaction has ended): that rejection is part
  // of the mistake reported, never an unhandled rejection that ends the process.
  assert.throws(
    () =>
      queue.transaction(async (tx) => {
        await null;
        tx.send({ body: "late" });
      }),
    TypeError,
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await queue.receive(), undefined);
});

eachDriver("A QueueTransaction cannot be used after its transaction ends", ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const escaped = queue.transaction((tx) => tx);
  assert.throws(
    () => escaped.send({ body: "late" }),
    (error) => error instanceof QueueError && error.code === "CLOSED",
  );
});

eachDriver("Nested Queue.transaction() calls roll back only the inner part", async ({ db }) => {
  const queue = new Queue({ db, name: "q" });
  const other = new Queue({ db, name: "other" });
  queue.transaction((tx) => {
    tx.send({ body: "outer" });
    assert.throws(() =>
      other.transaction((inner) => {
        inner.send({ body: "inner" });
        throw new Error("inner fails");
      })
    );
  });
  assert.equal(text((await queue.receive())!.body), "outer");
  assert.equal(await other.receive(), undefined);
});
