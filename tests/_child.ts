/**
 * A second process for the multi-process tests. Usage:
 *   _child.ts send <driver> <path> <queue> <body>      sends one message, prints its id
 *   _child.ts drain <driver> <path> <queue>            receives and deletes until empty,
 *                                                      prints the ids as JSON
 *   _child.ts stamps <driver> <path> <queue> <sync>    with `synchronous` <sync>, prints
 *                                                      `ready`, then for each line `go` on its
 *                                                      input sends a message whose body is the
 *                                                      time of the send (ms since the epoch)
 *
 * @module
 */

import { Queue } from "../mod.ts";
import type { DriverName } from "../mod.ts";
import { openWith } from "./_helpers.ts";

const [command, driver, path, name, body] = (globalThis as unknown as {
  process: { argv: string[] };
}).process.argv.slice(2);
const db = openWith(driver as DriverName, path!);
const queue = new Queue({ db, name: name!, timeout: 60_000 });
const out = (globalThis as unknown as { process: { stdout: { write(s: string): void } } }).process
  .stdout;
if (command === "send") {
  out.write(await queue.send({ body: body! }) + "\n");
} else if (command === "drain") {
  const ids: string[] = [];
  for (let message = await queue.receive(); message; message = await queue.receive()) {
    ids.push(message.id);
    await queue.delete(message);
  }
  out.write(JSON.stringify(ids) + "\n");
} else if (command === "stamps") {
  db.exec(`pragma synchronous = ${body}`);
  const { createInterface } = await import("node:readline");
  const { stdin } = await import("node:process");
  out.write("ready\n");
  for await (const line of createInterface({ input: stdin })) {
    if (line !== "go") break;
    await queue.send({ body: String(performance.timeOrigin + performance.now()) });
  }
} else {
  throw new Error(`unknown command ${command}`);
}
db.close();
