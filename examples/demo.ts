/**
 * A small tour of qite on a file database: send with priorities and a delay, receive with
 * receiveAndWait, a transactional send, and a message that dies after its receive count.
 *
 * Run: deno run -A examples/demo.ts [path]   (also: bun examples/demo.ts, node examples/demo.ts)
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { open, Queue, setup } from "../mod.ts";

const path = (globalThis as { process?: { argv: string[] } }).process?.argv[2] ?? "qite.db";
using db = open(path);
setup(db);
const queue = new Queue({ db, name: "demo", timeout: 200, maxReceive: 2 });
const decode = (body: Uint8Array): string => new TextDecoder().decode(body);

console.log(`qite demo on ${path} (${db.driver}, SQLite ${db.sqliteVersion})`);
await queue.send({ body: "normal priority" });
await queue.send({ body: "high priority", priority: 10 });
await queue.send({ body: "delayed by 300 ms", delay: 300 });
db.exec("create table if not exists demo_orders (id integer primary key, item text)");
queue.transaction((tx) => {
  db.prepare("insert into demo_orders (item) values (?)").run("book");
  tx.send({ body: "order placed (sent in the same transaction as the order row)" });
});

const started = Date.now();
for (let i = 0; i < 4; i++) {
  const message = await queue.receiveAndWait({ signal: AbortSignal.timeout(5000) });
  console.log(`+${Date.now() - started} ms  received ${JSON.stringify(decode(message.body))}`);
  await queue.delete(message);
}

await queue.send({ body: "never deleted" });
for (let i = 0; i < 3; i++) {
  const message = await queue.receiveAndWait({ signal: AbortSignal.timeout(1000) }).catch(() =>
    undefined
  );
  console.log(
    message
      ? `received ${JSON.stringify(decode(message.body))} for the ${message.received}. time`
      : "nothing more: the message is dead after maxReceive (2) receives",
  );
}
db.prepare("delete from goqite where queue = ?").run("demo");
