/**
 * A second process for the PostgreSQL tests, whose clock may be off. Usage:
 *   _pg_child.ts <driver> <schema> <skew ms> send <body> <delay ms>    prints the id
 *   _pg_child.ts <driver> <schema> <skew ms> receive <timeout ms>      prints the id, or -
 *   _pg_child.ts <driver> <schema> <skew ms> sends <named|path>
 *     for each line read (a number of ms), waits that long, then sends a message whose body is
 *     the time of the send (`Date.now()`), and prints `sent`; ends with its input. The queue
 *     names the schema (`named`) or finds the table on the connection's search_path (`path`).
 *
 * With a skew, `Date.now()` and `new Date()` are off by that many milliseconds for the whole
 * process, as on a machine whose clock is wrong.
 *
 * @module
 */

import { PostgresQueue } from "../postgres/mod.ts";
import type { PostgresDriverName } from "../postgres/mod.ts";
import { stdin } from "node:process";
import { createInterface } from "node:readline";
import { openClient } from "./_postgres.ts";

const [driver, schema, skew, command, ...args] = (globalThis as unknown as {
  process: { argv: string[] };
}).process.argv.slice(2);

const offset = Number(skew);
if (offset !== 0) {
  const RealDate = Date;
  const realNow = RealDate.now;
  class SkewedDate extends RealDate {
    constructor(...values: [] | [string | number | Date]) {
      super(values.length === 0 ? realNow() + offset : values[0]);
    }
    static override now(): number {
      return realNow() + offset;
    }
  }
  globalThis.Date = SkewedDate as DateConstructor;
}

const onPath = command === "sends" && args[0] === "path";
const client = openClient(driver as PostgresDriverName, {
  max: 1,
  ...(onPath ? { connection: { search_path: `"${schema}"` } } : {}),
});
const out = (globalThis as unknown as { process: { stdout: { write(s: string): void } } }).process
  .stdout;
try {
  if (command === "send") {
    const queue = new PostgresQueue({ sql: client.sql, schema: schema!, name: "q" });
    out.write(await queue.send({ body: args[0]!, delay: Number(args[1]) }) + "\n");
  } else if (command === "receive") {
    const queue = new PostgresQueue({
      sql: client.sql,
      schema: schema!,
      name: "q",
      timeout: Number(args[0]),
    });
    out.write(((await queue.receive())?.id ?? "-") + "\n");
  } else if (command === "sends") {
    const queue = new PostgresQueue({
      sql: client.sql,
      name: "q",
      ...(onPath ? {} : { schema: schema! }),
    });
    for await (const line of createInterface({ input: stdin })) {
      await new Promise((resolve) => setTimeout(resolve, Number(line)));
      await queue.send({ body: String(Date.now()) });
      out.write("sent\n");
    }
    await queue.close();
  } else {
    throw new Error(`unknown command ${command}`);
  }
} finally {
  await client.end();
}
