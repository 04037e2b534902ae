/**
 * goqite's wire format, row by row: every request of `fixtures/goqite_wire/cases.json` (goqite's
 * answers, made by `fixtures/goqite_wire/oracle.go`) replayed through qite's standalone server
 * over TCP and through the handler, checking the status and what happened to the queue (read
 * back from the table), or the deviation `http/mod.ts` documents for that row. The same rows
 * check the goqite stand-in (`_goqite_handler.ts`), which then serves qite's client.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { type Database, type Message, Queue, type ReceiveAndWaitOptions } from "../mod.ts";
import { createClient, createHandler, type Handler, HttpError, serve } from "../http/mod.ts";
import { encodeJob, Runner } from "../jobs/mod.ts";
import { pollWindow } from "../http/handler.ts";
import { WireError } from "../http/_wire.ts";
import { listen } from "../src/runtime/serve.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { eachDriver, tempDir } from "./_helpers.ts";
import { createGoqiteHandler, type GoqiteHandlerOptions } from "./_goqite_handler.ts";

interface Effect {
  op: "send" | "extend" | "delete" | "receive" | "receiveAndWait";
  id?: string;
  body?: string;
  delay?: string;
  priority?: string;
  timeout?: string;
  interval?: string;
}

interface Case {
  name: string;
  class: string;
  method: string;
  target: string;
  headers: [string, string][];
  body: string;
  seed?: { id: string; body: string };
  deviation?: string;
  goqite: { status: number; contentType: string; body: string; effect: Effect | null };
}

const cases: Case[] = JSON.parse(
  readFileSync(new URL("./fixtures/goqite_wire/cases.json", import.meta.url), "utf8"),
);

/** The rows of the deviation table (the one whose first column is `tag`), cells trimmed. */
function deviationTable(text: string): string[][] {
  const rows = text.split("\n")
    .map((line) => line.replace(/^ \* /, "").trim())
    .filter((line) => line.startsWith("|"))
    .map((line) => line.slice(1, -1).split("|").map((cell) => cell.trim()));
  const start = rows.findIndex((row) => row[0] === "tag");
  const end = rows.findIndex((row, i) => i > start + 1 && !row[0]!.startsWith("`"));
  return rows.slice(start, end < 0 ? undefined : end).filter((row) => !/^-+$/.test(row[0]!));
}

/** qite's status for each `extension` row (goqite ignores qite's keys, params and sub-paths). */
const EXTENSIONS: Record<string, number> = {
  "extension: PUT with Delivery": 409, // the seeded message was never received: fenced out
  "extension: DELETE with an empty Delivery": 400,
  "extension: POST with a number Delivery": 400, // Delivery must be a string
  "extension: POST Messages": 200,
  "extension: GET max=2": 200,
  "extension: GET stats": 200,
  "extension: GET peek": 200,
  "extension: POST purge": 200,
};

/** goqite's own 400 texts, which qite answers word for word. */
const FIXED_TEXTS = new Set([
  "delay cannot be negative",
  "ID cannot be empty",
  "delay must larger than zero",
  "timeout must be between 0 (exclusive) and 20 (inclusive) seconds",
  "interval must be between 0 (exclusive) and timeout (inclusive)",
]);

const PAST = "2020-01-01T00:00:00.000Z";
const NS_PER_MS = 1_000_000n;

function bytes(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** Ids are compared as the hex of their UTF-8 (a driver may cut text at a NUL when reading). */
function hexId(id: string): string {
  return hex(new TextEncoder().encode(id));
}

function hex(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

function ceilMs(ns: string): number {
  return Number((BigInt(ns) + NS_PER_MS - 1n) / NS_PER_MS);
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

interface Row {
  id: string;
  body: string;
  priority: string;
  timeout: string;
  created: string;
  received: number;
}

function snapshot(db: Database, queue: string): Row[] {
  return db.prepare(
    `select hex(id) as id, hex(body) as body, cast(priority as text) as priority, timeout, created,
       received
     from goqite where queue = ? order by id`,
  ).all(queue).map((row) => ({ ...row } as unknown as Row));
}

/** Puts the messages a case needs in the queue: its seed, and the id goqite acts on. */
function seed(db: Database, queue: string, c: Case): void {
  const insert = db.prepare(
    `insert or ignore into goqite (id, created, updated, queue, body, timeout, priority)
     values (?, ?, ?, ?, ?, ?, 0)`,
  );
  if (c.seed !== undefined) insert.run(c.seed.id, PAST, PAST, queue, bytes(c.seed.body), PAST);
  const id = c.goqite.effect?.id;
  if (id !== undefined) insert.run(id, PAST, PAST, queue, new Uint8Array([1]), PAST);
}

/** What a case must leave in the queue, given what it held before; a failure's reason. */
function checkEffect(
  c: Case,
  effect: Effect | null,
  before: Row[],
  after: Row[],
  t0: number,
  t1: number,
): string | undefined {
  if (effect === null) {
    return JSON.stringify(after) === JSON.stringify(before) ? undefined : "the queue changed";
  }
  switch (effect.op) {
    case "send": {
      const added = after.filter((row) => !before.some((old) => old.id === row.id));
      if (added.length !== 1) return `${added.length} messages were sent, not 1`;
      const [row] = added as [Row];
      if (row.body !== hex(bytes(effect.body!))) return `body ${row.body}`;
      if (row.priority !== effect.priority) return `priority ${row.priority}`;
      const delay = Date.parse(row.timeout) - Date.parse(row.created);
      if (delay !== ceilMs(effect.delay!)) return `delay ${delay} ms`;
      return undefined;
    }
    case "extend": {
      const row = after.find((r) => r.id === hexId(effect.id!));
      if (row === undefined) return `no message ${JSON.stringify(effect.id)}`;
      const d = ceilMs(effect.delay!);
      const timeout = Date.parse(row.timeout);
      // Timestamps keep whole milliseconds.
      if (timeout < Math.floor(t0) + d || timeout > Math.ceil(t1) + d) {
        return `timeout ${row.timeout}, not now + ${d} ms`;
      }
      return undefined;
    }
    case "delete":
      return after.some((r) => r.id === hexId(effect.id!))
        ? `${effect.id} is still there`
        : undefined;
    default: {
      if (c.seed === undefined) {
        return JSON.stringify(after) === JSON.stringify(before) ? undefined : "the queue changed";
      }
      const row = after.find((r) => r.id === hexId(c.seed!.id));
      return row?.received === 1 ? undefined : "the seeded message was not received";
    }
  }
}

/** Checks a reply against goqite's, or against the row's documented deviation. */
function checkReply(c: Case, reply: Reply): string | undefined {
  const { status, text } = reply;
  const type = reply.headers.get("content-type");
  const g = c.goqite;
  switch (c.deviation) {
    case undefined:
      break;
    case "method": {
      // A standard method a route does not take: 405 with Allow; OPTIONS: 204 with Allow; any
      // other method: 501.
      const standard = ["HEAD", "PATCH"].includes(c.method);
      const want = c.method === "OPTIONS" ? 204 : standard ? 405 : 501;
      if (status !== want) return `status ${status}, not ${want}`;
      if (want !== 501 && reply.headers.get("allow") !== "GET, POST, PUT, DELETE") {
        return "no Allow header";
      }
      return undefined;
    }
    case "body-missing":
      if (g.status !== 500) return `goqite answered ${g.status}, not 500`;
      if (status !== 400) return `status ${status}, not 400`;
      return /^Body is missing or null/.test(text) ? undefined : `text ${text}`;
    case "content-type":
      return status === 415 ? undefined : `status ${status}, not 415`;
    case "limits":
      if (g.status !== 200) return `goqite answered ${g.status}, not 200`;
      if (status !== 400) return `status ${status}, not 400`;
      return /longer than 32 characters|deeper than 64 levels/.test(text)
        ? undefined
        : `text ${text}`;
    case "extension":
      return status === EXTENSIONS[c.name] ? undefined : `status ${status}`;
    default:
      return `unknown deviation ${c.deviation}`;
  }
  if (status !== g.status) return `status ${status}, not ${g.status}: ${text.slice(0, 200)}`;
  if (status === 200 && c.method === "GET") {
    if (text !== g.body) return `body ${text}`;
    // Go sniffs text/plain; qite says what it is.
    return type === "application/json" ? undefined : `content type ${type}`;
  }
  if (status < 300) return text === "" ? undefined : `body ${text}`;
  if (type !== g.contentType) return `content type ${type}`;
  const goText = g.body.trimEnd();
  const qiteText = text.trimEnd();
  if (FIXED_TEXTS.has(goText) || (goText.startsWith("error parsing ") && goText.length <= 120)) {
    return qiteText === goText ? undefined : `text ${JSON.stringify(qiteText)}`;
  }
  const prefix = goText.startsWith("error parsing ")
    ? goText.slice(0, 60)
    : goText.slice(0, goText.indexOf(":") + 1);
  if (!qiteText.startsWith(prefix)) return `text ${JSON.stringify(qiteText)}`;
  return qiteText.length <= 240 ? undefined : `an answer of ${qiteText.length} characters`;
}

/** Methods every runtime's `Request` keeps as they are. */
const STANDARD_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

/**
 * Whether fetch cannot send the request as it is: a forbidden method, a GET/HEAD body, or a
 * method that not every runtime's `Request` keeps (Bun turns `FOO` into `GET`).
 */
function needsRawTcp(c: Case): boolean {
  return !STANDARD_METHODS.includes(c.method) ||
    (["GET", "HEAD"].includes(c.method) && c.body !== "");
}

/** Sends one request over a fresh TCP connection and reads the whole answer. */
function rawRequest(port: number, c: Case, path: string): Promise<Reply> {
  const body = bytes(c.body);
  const head = [
    `${c.method} ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Connection: close",
    ...c.headers.map(([k, v]) => `${k}: ${v}`),
    `Content-Length: ${body.length}`,
    "",
    "",
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(head);
      socket.write(body);
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer in 10 s")));
    socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const all = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
      let offset = 0;
      for (const chunk of chunks) {
        all.set(chunk, offset);
        offset += chunk.length;
      }
      const raw = new TextDecoder().decode(all);
      const end = raw.indexOf("\r\n\r\n");
      const [statusLine, ...lines] = raw.slice(0, end).split("\r\n");
      const headers = new Headers();
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      let text = raw.slice(end + 4);
      if (headers.get("transfer-encoding")?.includes("chunked")) {
        let out = "";
        let rest = text;
        while (true) {
          const lineEnd = rest.indexOf("\r\n");
          const size = parseInt(rest.slice(0, lineEnd), 16);
          if (!(size > 0)) break;
          out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
          rest = rest.slice(lineEnd + 2 + size + 2);
        }
        text = out;
      }
      if (c.method === "HEAD") text = "";
      resolve({ status: Number(statusLine!.split(" ")[1]), headers, text });
    });
  });
}

async function viaFetch(url: string, c: Case): Promise<Reply> {
  const body = bytes(c.body);
  const init: RequestInit = { method: c.method, headers: c.headers };
  if (!["GET", "HEAD"].includes(c.method)) init.body = body;
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function fail(failures: string[]): void {
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} rows differ`);
}

test("the fixture holds every class of input, with documented deviations only", () => {
  assert.ok(cases.length >= 500, `${cases.length} rows`);
  const classes = new Set(cases.map((c) => c.class));
  for (
    const name of [
      "goqite-tests",
      "methods",
      "trailing-data",
      "null",
      "body-array",
      "base64",
      "delay",
      "priority",
      "query",
      "bom",
      "case-fold",
      "duplicates",
      "unknown-keys",
      "types",
      "numbers",
      "strings",
    ]
  ) assert.ok(classes.has(name), `no ${name} rows`);
  const doc = deviationTable(readFileSync(new URL("../http/mod.ts", import.meta.url), "utf8"));
  const readme = deviationTable(readFileSync(new URL("../README.md", import.meta.url), "utf8"));
  assert.deepEqual(readme, doc, "the README's table is the module documentation's");
  const tags = doc.slice(1).map((row) => row[0]!.replaceAll("`", ""));
  assert.ok(tags.length >= 10, tags.join());
  for (const c of cases) {
    if (c.deviation !== undefined) {
      assert.ok(tags.includes(c.deviation), `${c.name}: ${c.deviation}`);
    }
  }
  for (const tag of ["method", "body-missing", "content-type", "limits", "extension"]) {
    assert.ok(cases.some((c) => c.deviation === tag), `no fixture row shows ${tag}`);
  }
});

test("every fixture row gets goqite's status and effect from qite's server over TCP", async () => {
  const dir = tempDir();
  const server = await serve({ db: join(dir, "wire.db"), port: 0 });
  const db = server.db as Database; // a SQLite file
  const failures: string[] = [];
  const refusedByRuntime: string[] = [];
  try {
    for (const [i, c] of cases.entries()) {
      const queue = `w${i}`;
      const path = `/queues/${queue}${c.target === "/" ? "" : c.target}`;
      seed(db, queue, c);
      const before = snapshot(db, queue);
      const t0 = Date.now();
      const reply = needsRawTcp(c)
        ? await rawRequest(server.port, c, path)
        : await viaFetch(`${server.url}${path}`, c);
      const t1 = Date.now();
      const after = snapshot(db, queue);
      if (
        c.deviation === "method" && detectRuntime() !== "deno" &&
        (Number.isNaN(reply.status) || reply.status === 400) &&
        JSON.stringify(after) === JSON.stringify(before)
      ) {
        // Node's server answers 400 to a method it does not know (and Request refuses TRACE),
        // Bun's closes the connection: the request never reaches qite.
        refusedByRuntime.push(c.method);
        db.exec("delete from goqite");
        continue;
      }
      const problem = checkReply(c, reply) ??
        (c.deviation === undefined
          ? checkEffect(c, c.goqite.effect, before, after, t0, t1)
          : c.deviation === "extension"
          ? undefined
          : checkEffect(c, null, before, after, t0, t1));
      if (problem !== undefined) failures.push(`${c.name}: ${problem}`);
      db.exec("delete from goqite");
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(
    refusedByRuntime.every((method) => ["TRACE", "FOO"].includes(method)),
    refusedByRuntime.join(),
  );
  fail(failures);
});

/** A queue that notes the interval of each long poll. */
class SpyQueue extends Queue {
  intervals: number[] = [];
  override receiveBatchAndWait(
    max: number,
    options?: ReceiveAndWaitOptions,
  ): Promise<Message[]> {
    this.intervals.push(options?.interval ?? Number.NaN);
    return super.receiveBatchAndWait(max, options);
  }
}

/** The case as a `Request`, or `undefined` where this runtime cannot make one (TCP has it). */
function handlerRequest(c: Case): Request | undefined {
  if (["TRACE", "CONNECT", "TRACK"].includes(c.method)) return undefined;
  const init: RequestInit = { method: c.method, headers: c.headers };
  if (!["GET", "HEAD"].includes(c.method)) init.body = bytes(c.body);
  const request = new Request(`http://queue.test${c.target}`, init);
  return request.method === c.method ? request : undefined;
}

async function replay(
  db: Database,
  c: Case,
  i: number,
  make: (queue: Queue) => Handler,
): Promise<{ reply: Reply; before: Row[]; after: Row[]; t0: number; t1: number; spy: SpyQueue }> {
  const name = `h${i}`;
  const spy = new SpyQueue({ db, name });
  seed(db, name, c);
  const before = snapshot(db, name);
  const t0 = Date.now();
  const response = await make(spy)(handlerRequest(c)!);
  const text = c.method === "HEAD" ? "" : await response.text();
  const t1 = Date.now();
  const after = snapshot(db, name);
  db.exec("delete from goqite");
  return {
    reply: { status: response.status, headers: response.headers, text },
    before,
    after,
    t0,
    t1,
    spy,
  };
}

eachDriver(
  "every fixture row gets goqite's status and effect from qite's handler",
  async ({ db }) => {
    const failures: string[] = [];
    for (const [i, c] of cases.entries()) {
      if (handlerRequest(c) === undefined) continue;
      const { reply, before, after, t0, t1, spy } = await replay(db, c, i, (q) => createHandler(q));
      let problem = checkReply(c, reply);
      if (problem === undefined && c.deviation === undefined) {
        problem = checkEffect(c, c.goqite.effect, before, after, t0, t1);
        const effect = c.goqite.effect;
        if (problem === undefined && effect?.op === "receiveAndWait") {
          const interval = spy.intervals[0]! * 1e6;
          if (Math.abs(interval - Number(effect.interval)) > 1e-6 * Number(effect.interval)) {
            problem = `interval ${interval} ns`;
          }
        }
      } else if (problem === undefined && c.deviation !== "extension") {
        problem = checkEffect(c, null, before, after, t0, t1);
      }
      if (problem !== undefined) failures.push(`${c.name}: ${problem}`);
    }
    fail(failures);
  },
);

test("every GET row's timeout and interval are goqite's, to the nanosecond", () => {
  const failures: string[] = [];
  for (const c of cases) {
    if (c.method !== "GET" || c.deviation !== undefined) continue;
    const query = new URL(`http://queue.test${c.target}`).search.slice(1);
    const effect = c.goqite.effect;
    let got: string;
    try {
      const window = pollWindow(query);
      got = window === undefined
        ? "receive"
        : `receiveAndWait ${window.timeout} ${window.interval}`;
    } catch (error) {
      got = error instanceof WireError ? `${error.status}` : String(error);
    }
    const want = c.goqite.status === 400
      ? "400"
      : effect!.op === "receive"
      ? "receive"
      : `receiveAndWait ${effect!.timeout} ${effect!.interval}`;
    if (got !== want) failures.push(`${c.name}: ${got}, not ${want}`);
  }
  fail(failures);
});

eachDriver("the goqite stand-in answers every fixture row as goqite does", async ({ db }) => {
  const failures: string[] = [];
  for (const [i, c] of cases.entries()) {
    if (handlerRequest(c) === undefined) continue;
    const { reply, before, after, t0, t1 } = await replay(db, c, i, createGoqiteHandler);
    const g = c.goqite;
    let problem: string | undefined;
    if (reply.status !== g.status) problem = `status ${reply.status}, not ${g.status}`;
    else if (g.status < 300 && reply.text !== g.body) problem = `body ${reply.text}`;
    else if (
      (reply.status >= 400 || reply.text !== "") &&
      reply.headers.get("content-type") !== g.contentType
    ) {
      // (An empty 200 has no type in Go's recorder, and text/plain from Go's server.)
      problem = `content type ${reply.headers.get("content-type")}`;
    } else if (FIXED_TEXTS.has(g.body.trimEnd()) && reply.text !== g.body) {
      problem = `text ${reply.text}`;
    } else problem = checkEffect(c, g.effect, before, after, t0, t1);
    if (problem !== undefined) failures.push(`${c.name}: ${problem}`);
  }
  fail(failures);
});

/** Serves the goqite stand-in over TCP for a queue of `db`. */
async function goqiteServer(
  db: Database,
  options: GoqiteHandlerOptions = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const queue = new Queue({ db, name: "goqite" });
  const listener = await listen({
    port: 0,
    hostname: "127.0.0.1",
    fetch: createGoqiteHandler(queue, options),
  });
  return { url: `http://127.0.0.1:${listener.port}/`, close: () => listener.close() };
}

eachDriver("qite's client works with goqite's four routes, and send has no id", async ({ db }) => {
  const server = await goqiteServer(db);
  try {
    const client = createClient(server.url);
    assert.equal(await client.send({ body: "hello", priority: 3, delay: 0 }), undefined);
    const message = await client.receive();
    assert.ok(message);
    assert.equal(new TextDecoder().decode(message.body), "hello");
    assert.equal(message.received, 1);
    assert.equal(message.priority, 0, "goqite's answer carries no priority");
    assert.equal(await client.extend(message.id, 60_000), true);
    assert.equal(await client.delete(message.id), true);
    assert.equal(await client.receive(), undefined);
    await client.send({ body: "later" });
    const waited = await client.receiveAndWait({ signal: AbortSignal.timeout(5000) });
    assert.equal(new TextDecoder().decode(waited.body), "later");
    await client.send({ body: "a" });
    await client.send({ body: "b" });
    const batch = await client.receiveBatch(5);
    assert.equal(batch.length, 1, "goqite hands out one message per GET");
  } finally {
    await server.close();
  }
});

for (const nilBody of ["refuse", "empty"] as const) {
  eachDriver(
    "qite's client says which methods need a qite server, and leaves goqite's queue alone " +
      (nilBody === "refuse"
        ? "(goqite on SQLite, which refuses a nil Body)"
        : "(goqite on PostgreSQL through lib/pq, which stores a nil Body as an empty message)"),
    async ({ db }) => {
      const server = await goqiteServer(db, { nilBody });
      try {
        const client = createClient(server.url);
        await client.send({ body: "keep" });
        const receipt = { id: "m_1", delivery: "d" };
        const calls: [string, () => Promise<unknown>][] = [
          ["stats", () => client.stats()],
          ["peek", () => client.peek()],
          ["listDead", () => client.listDead()],
          ["countDead", () => client.countDead()],
          ["sendBatch", () => client.sendBatch([{ body: "x" }])],
          ["extendBatch", () => client.extendBatch(["m_1"], 1000)],
          ["deleteBatch", () => client.deleteBatch(["m_1"])],
          ["releaseBatch", () => client.releaseBatch([receipt])],
          ["bury", () => client.bury(receipt)],
          ["redrive", () => client.redrive()],
          ["redrive", () => client.redrive(["m_1"])],
          ["purgeDead", () => client.purgeDead()],
          ["purge", () => client.purge()],
        ];
        for (const [method, call] of calls) {
          await assert.rejects(call(), (error: unknown) => {
            assert.ok(error instanceof HttpError, method);
            assert.match(error.message, new RegExp(`${method} needs a qite server`));
            return true;
          });
        }
        const rows = db.prepare("select body, received from goqite").all();
        assert.equal(rows.length, 1, "no message was added");
        assert.equal(rows[0]!.received, 0, "nothing was received");
      } finally {
        await server.close();
      }
    },
  );
}

eachDriver(
  "Against goqite, release and bury reject with UNSUPPORTED, extend(…, 0) is accepted, and a " +
    "runner stops with the server's refusal instead of looping",
  async ({ db }) => {
    const server = await goqiteServer(db);
    try {
      const client = createClient(server.url);
      await client.send({ body: createJobBody() });
      const message = (await client.receive())!;
      assert.equal(message.delivery, "");
      for (const call of [() => client.release(message), () => client.bury(message)]) {
        await assert.rejects(call(), { name: "QueueError", code: "UNSUPPORTED" });
      }
      assert.equal(await client.extend(message, 0), true, "sent as 1 ns, which goqite takes");
      const runner = new Runner({ queue: client, pollInterval: 10 });
      runner.register("greet", () => {});
      await assert.rejects(runner.start(), (error: unknown) => {
        assert.ok(error instanceof HttpError);
        assert.match(error.message, /needs a qite server/);
        return true;
      });
    } finally {
      await server.close();
    }
  },
);

eachDriver(
  "Against goqite, a runner's start() rejects before it receives anything, whether a job waits " +
    "or the queue is empty",
  async ({ db }) => {
    const server = await goqiteServer(db);
    try {
      const client = createClient(server.url);
      let ran = 0;
      const runner = new Runner({ queue: client, pollInterval: 10 });
      runner.register("greet", () => void ran++);
      // Empty: it would otherwise poll for ever.
      const stop = AbortSignal.timeout(5000);
      await assert.rejects(runner.start({ signal: stop }), /needs a qite server/);
      assert.equal(stop.aborted, false, "it rejected before the 5 s stop");
      // A job waiting: it would otherwise run it, then fail to delete it (and run it again).
      await client.send({ body: createJobBody() });
      await assert.rejects(runner.start(), /needs a qite server/);
      assert.equal(ran, 0, "no job ran");
      const rows = db.prepare("select received from goqite").all();
      assert.deepEqual(rows.map((row) => Number(row.received)), [0], "nothing was received");
    } finally {
      await server.close();
    }
  },
);

/** A job's body, in goqite's format. */
function createJobBody(): Uint8Array {
  return encodeJob("greet", "hi");
}

test("qite's client sends delays and priorities of goqite's whole range", async () => {
  const dir = tempDir();
  const server = await serve({ db: join(dir, "range.db"), port: 0 });
  try {
    const client = createClient(`${server.url}/queues/range`);
    const id = await client.send({ body: "x", priority: 2n ** 63n - 1n, delay: 9_223_372_036_854 });
    assert.equal(typeof id, "string");
    const row = (server.db as Database).prepare(
      "select cast(priority as text) as p, timeout, created from goqite where id = ?",
    ).get(id!);
    assert.equal(row?.p, "9223372036854775807");
    assert.equal(
      Date.parse(row!.timeout as string) - Date.parse(row!.created as string),
      9_223_372_036_854,
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a 1 MB number is refused where it starts, and no 400 quotes more than an excerpt", async () => {
  const dir = tempDir();
  const server = await serve({ db: join(dir, "bounds.db"), port: 0 });
  const url = `${server.url}/queues/bounds`;
  const post = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(url, { method: "POST", body, headers });
  try {
    const digits = "1".repeat(1_000_000);
    for (
      const [body, offset] of [
        [`{"Message":{"Body":"","Delay":${digits}}}`, 30],
        [`{"Message":{"Body":""},"Unknown":${digits}}`, 33],
        [`{"Message":{"Body":"","Priority":-${digits}.5e1}}`, 33],
      ] as const
    ) {
      const response = await post(body);
      const text = await response.text();
      assert.equal(response.status, 400);
      assert.match(text, new RegExp(`longer than 32 characters at offset ${offset}\\n$`));
      assert.ok(text.length < 200, `${text.length} characters`);
    }
    // A long string is only bounded by the request size; it is never echoed.
    const long = await post(`{"Message":{"Body":"","ID":"${"x".repeat(1_000_000)}"},"X":true}`);
    assert.equal(long.status, 200);
    await long.body?.cancel();
    const wrongType = await post(`{"Message":{"Body":"${"!".repeat(1_000_000)}"}}`);
    const wrongText = await wrongType.text();
    assert.equal(wrongType.status, 400);
    assert.ok(wrongText.length < 200, `${wrongText.length} characters`);
    assert.equal((await post("x".repeat(2_000_000))).status, 413);

    const timeout = await fetch(`${url}?timeout=${"9".repeat(10_000)}x`);
    const timeoutText = await timeout.text();
    assert.equal(timeout.status, 400);
    assert.ok(timeoutText.length < 200, timeoutText);
    assert.match(
      timeoutText,
      /^error parsing timeout parameter: time: invalid duration "9{64}…" \(10001 bytes\)\n$/,
    );

    const type = await post("{}", { "content-type": `text/${"x".repeat(5000)}` });
    const typeText = await type.text();
    assert.equal(type.status, 415);
    assert.ok(typeText.length < 200, typeText);

    const peek = await fetch(`${url}/peek?limit=${"7".repeat(5000)}`);
    const peekText = await peek.text();
    assert.equal(peek.status, 400);
    assert.ok(peekText.length < 200, peekText);

    const escaped = await fetch(`${url}?timeout=%00%FF%22`);
    assert.equal(
      await escaped.text(),
      'error parsing timeout parameter: time: invalid duration "\\x00\\xff\\""\n',
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
