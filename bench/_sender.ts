/**
 * The sending process of the wake-up workload. It opens the database, prints `ready`, and for
 * each `go` line on its standard input sends one message whose body is the moment of sending
 * (`performance.timeOrigin + performance.now()`, in ms). It stops at the end of its input.
 *
 * Usage: _sender.ts <path> <synchronous> <driver or ""> <queue>
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { open, Queue, type Synchronous } from "../mod.ts";

const [path = "", synchronous = "NORMAL", driver = "", name = "wake"] = process.argv.slice(2);
const db = open(path, {
  synchronous: synchronous as Synchronous,
  ...(driver === "node:sqlite" || driver === "bun:sqlite" ? { driver } : {}),
});
const queue = new Queue({ db, name });
const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
for await (const line of lines) {
  if (line !== "go") break;
  await queue.send({ body: String(performance.timeOrigin + performance.now()) });
}
db.close();
