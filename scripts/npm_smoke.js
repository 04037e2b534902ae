// What a user of the npm package does first, run by scripts/npm_test.ts on Node 24 and on Bun
// in a fresh project where the packed tarball is installed: a queue on a SQLite file, a job,
// and one HTTP request to the server. Plain JavaScript: the package's own, with no loader.
// It leaves its file (the first argument, smoke.db by default) for the `qite` command to read.

// deno-lint-ignore-file no-console
import assert from "node:assert/strict";
import { open, Queue, setup } from "@qite/qite";
import { createJob, Runner } from "@qite/qite/jobs";
import { createClient, serve } from "@qite/qite/http";
import { PostgresQueue } from "@qite/qite/postgres";

import process from "node:process";

const runtime = typeof globalThis.Bun === "object" ? "bun" : "node";
const db = open(process.argv[2] ?? "smoke.db");
setup(db);

// Send, receive, delete.
const queue = new Queue({ db, name: "emails" });
await queue.send({ body: "hello" });
const message = await queue.receive();
assert.equal(new TextDecoder().decode(message.body), "hello");
assert.equal(await queue.delete(message), true);

// A job.
const jobs = new Queue({ db, name: "jobs" });
const runner = new Runner({ queue: jobs });
const ran = Promise.withResolvers();
runner.register("greet", (body) => ran.resolve(new TextDecoder().decode(body)));
const stop = new AbortController();
const running = runner.start({ signal: stop.signal });
await createJob(jobs, "greet", "bob");
assert.equal(await ran.promise, "bob");
stop.abort();
await running;

// One HTTP request through the server, on the same file.
const server = await serve({ db, port: 0, dashboard: true });
const remote = createClient(`${server.url}/queues/remote`);
const id = await remote.send({ body: "over http" });
assert.match(id, /^m_[0-9a-f]{32}$/);
await server.close();

// Left for the qite command: one message in "remote", one job sent by the command later.
assert.equal(typeof PostgresQueue, "function");
db.close();
const version = runtime === "bun" ? globalThis.Bun.version : process.version;
console.log(`the npm package works on ${runtime} ${version}: a queue, a job, HTTP`);
