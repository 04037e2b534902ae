/**
 * One process of the `processes` workload: goqite's single-message loop (send, receive, delete
 * through `Queue`) on a shared file, in grants of cycles handed out by the bench.
 *
 * It opens the database and prints `ready`. Each `go N` line on its standard input adds a grant
 * of N cycles; after each grant it prints `ran R W`: how many of its writes so far found the
 * write lock taken and were retried (R), and how long those retries waited in all, in ms (W).
 * It stops at the end of its input.
 *
 * The retries are counted by wrapping `setTimeout`: in this loop the only timer is the pause
 * before a write is tried again (`#write` in src/sqlite/database.ts).
 *
 * Usage: _loop.ts <path> <synchronous> <driver or ""> <queue>
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { open, Queue, type Synchronous } from "../mod.ts";

const [path = "", synchronous = "NORMAL", driver = "", name = "bench"] = process.argv.slice(2);

let retries = 0;
let waited = 0;
const setTimer = globalThis.setTimeout;
globalThis.setTimeout = ((handler: () => void, ms?: number): ReturnType<typeof setTimeout> => {
  retries++;
  waited += ms ?? 0;
  return setTimer(handler, ms);
}) as typeof setTimeout;

const db = open(path, {
  synchronous: synchronous as Synchronous,
  ...(driver === "node:sqlite" || driver === "bun:sqlite" ? { driver } : {}),
});
const queue = new Queue({ db, name });
const body = new TextEncoder().encode("yo");

const grants: number[] = [];
let wake: (() => void) | undefined;
let ended = false;
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const match = /^go (\d+)$/.exec(line);
  if (match === null) throw new Error(`unknown command ${line}`);
  grants.push(Number(match[1]));
  wake?.();
});
lines.on("close", () => {
  ended = true;
  wake?.();
});

process.stdout.write("ready\n");
while (true) {
  if (grants.length === 0) {
    if (ended) break;
    await new Promise<void>((resolve) => wake = resolve);
    wake = undefined;
    continue;
  }
  const cycles = grants.shift()!;
  for (let i = 0; i < cycles; i++) {
    await queue.send({ body });
    // Every process sends before it receives, so a message is always there for it.
    const message = await queue.receive();
    if (message === undefined) throw new Error("Benchmark check failed: nothing to receive");
    await queue.delete(message);
  }
  process.stdout.write(`ran ${retries} ${waited.toFixed(3)}\n`);
}
db.close();
