/**
 * A second process for the multi-process tests. Usage:
 *   _child.ts send <driver> <path> <queue> <body>      sends one message, prints its id
 *   _child.ts drain <driver> <path> <queue>            receives and deletes until empty,
 *                                                      prints the ids as JSON
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
} else {
  throw new Error(`unknown command ${command}`);
}
db.close();
