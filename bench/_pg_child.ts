/**
 * A second process for the PostgreSQL bench, on its own client. It prints `ready`, then:
 *
 * - `send <client> <schema> <queue>`: for each `go` line, sends one message whose body is the
 *   moment of sending (`performance.timeOrigin + performance.now()`, in ms);
 * - `run <client> <schema> <queue>`: on `go`, starts a Runner with its defaults that runs
 *   `noop` jobs; on `stop`, stops it and prints how many serialization failures qite retried.
 *
 * It exits at the end of its input.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { PostgresQueue } from "../postgres/mod.ts";
import { Runner } from "../jobs/mod.ts";
import { retried } from "../src/postgres/_errors.ts";
import { type ClientName, openClient } from "./_pg.ts";

const [command, client = "postgres.js", schema = "", name = "bench"] = process.argv.slice(2);
const opened = openClient(client as ClientName, 10);
const queue = new PostgresQueue({ sql: opened.sql, schema, name, timeout: 30_000 });
const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
let stop: AbortController | undefined;
let running: Promise<void> | undefined;
for await (const line of lines) {
  if (command === "send" && line === "go") {
    await queue.send({ body: String(performance.timeOrigin + performance.now()) });
  } else if (command === "run" && line === "go") {
    stop = new AbortController();
    const runner = new Runner({ queue });
    runner.register("noop", () => {});
    running = runner.start({ signal: stop.signal });
  } else if (command === "run" && line === "stop") {
    stop?.abort();
    await running;
    process.stdout.write(`${retried.conflict}\n`);
  } else break;
}
await queue.close();
await opened.end();
