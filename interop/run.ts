/**
 * qite side by side with goqite itself: builds the Go program in `interop/go/` against goqite's
 * source, then runs six scenarios on one SQLite file and on one PostgreSQL schema, each side
 * using its own library on the same `goqite` table, and prints a table of what held.
 *
 * Usage: deno task interop [sqlite] [postgres]   (both by default; also runs as `bun interop/run.ts`)
 *
 * Environment: GOQITE_SRC, a checkout of goqite (required); GO, the go command (by default `go`
 * on the PATH, else Debian's /usr/lib/go-1.2x/bin/go; Go 1.21 or later); QITE_PG_URL, the
 * PostgreSQL server (the local test server by default).
 *
 * Exits 0 when every check held, 1 on any violation, 2 (with one line) when Go or goqite's source
 * is missing. Not part of CI: CI machines have no Go.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { type Database, type Message, open, Queue, type QueueLike, setup } from "../mod.ts";
import { createJob, Runner } from "../jobs/mod.ts";
import { PostgresQueue, setup as setupPostgres } from "../postgres/mod.ts";

const here = dirname(fileURLToPath(import.meta.url));
const PG_URL = process.env.QITE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

// ---------------------------------------------------------------- Go and goqite

/** Exits with code 2 and one line: the harness cannot run here. */
function unavailable(reason: string): never {
  console.error(`interop: ${reason}`);
  process.exit(2);
}

function goVersion(go: string): [number, number] | undefined {
  try {
    const text = execFileSync(go, ["env", "GOVERSION"], { encoding: "utf8" }).trim();
    const match = /^go(\d+)\.(\d+)/.exec(text);
    return match ? [Number(match[1]), Number(match[2])] : undefined;
  } catch {
    return undefined;
  }
}

/** The go command: GO, else `go` on the PATH, else Debian's versioned packages; Go ≥ 1.21. */
function findGo(): string {
  const candidates = process.env.GO
    ? [process.env.GO]
    : ["go", ...[26, 25, 24, 23, 22, 21].map((minor) => `/usr/lib/go-1.${minor}/bin/go`)];
  for (const go of candidates) {
    const version = goVersion(go);
    if (version && (version[0] > 1 || version[1] >= 21)) return go;
  }
  unavailable(
    `no Go 1.21 or later (tried ${candidates.join(", ")}); set GO, or on Debian 12 ` +
      `apt-get install golang-1.23-go from bookworm-backports (see interop/README.md)`,
  );
}

function findGoqite(): { src: string; commit: string } {
  const src = process.env.GOQITE_SRC;
  if (!src || !existsSync(join(src, "goqite.go")) || !existsSync(join(src, "jobs", "runner.go"))) {
    unavailable(
      `GOQITE_SRC must name a checkout of goqite (with goqite.go and jobs/runner.go): ` +
        `current value is ${JSON.stringify(src ?? null)}`,
    );
  }
  let commit = process.env.GOQITE_COMMIT ?? "unknown";
  try {
    commit = execFileSync("git", ["-C", src, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  } catch { /* not a git checkout: GOQITE_COMMIT or unknown */ }
  return { src, commit };
}

/**
 * Builds interop/go in GOPATH mode: goqite's go.mod may ask for a newer Go than the one at hand
 * (and its modules cannot be downloaded here), while its two packages need only database/sql.
 * The drivers come from GOPATH's other entries (Debian's /usr/share/gocode).
 */
function build(go: string, goqite: string): string {
  const dir = mkdtempSync(join(tmpdir(), "qite-interop-"));
  const src = join(dir, "gopath", "src");
  mkdirSync(join(src, "maragu.dev"), { recursive: true });
  symlinkSync(goqite, join(src, "maragu.dev", "goqite"));
  symlinkSync(join(here, "go"), join(src, "qiteinterop"));
  const gopath = [join(dir, "gopath"), process.env.GOPATH ?? "/usr/share/gocode"].join(":");
  const binary = join(dir, "qiteinterop");
  try {
    execFileSync(go, ["build", "-o", binary, "."], {
      cwd: join(src, "qiteinterop"),
      env: {
        ...process.env,
        GO111MODULE: "off",
        GOPATH: gopath,
        GOFLAGS: "",
        GOTOOLCHAIN: "local",
        GOCACHE: process.env.GOCACHE ?? join(tmpdir(), "qite-interop-gocache"),
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    unavailable(
      `cannot build interop/go against ${goqite} with ${go} (GOPATH ${gopath}): the drivers ` +
        `come from golang-github-mattn-go-sqlite3-dev and golang-github-lib-pq-dev`,
    );
  }
  return binary;
}

// ---------------------------------------------------------------- the Go program

/** One line the Go program printed. */
interface GoLine {
  ev: string;
  t: number;
  id?: string;
  body?: string;
  name?: string;
  error?: string;
  op?: string;
  go?: string;
}

interface GoProcess {
  readonly lines: GoLine[];
  /** Closes its standard input (which ends `consume` and `run-jobs`) and waits for its exit. */
  stop(): Promise<void>;
}

let binary = "";
/** The Go processes started during the current scenario. */
let launched: GoProcess[] = [];

function startGo(args: string[]): GoProcess {
  const child: ChildProcessWithoutNullStreams = spawn(binary, args, { stdio: "pipe" });
  const lines: GoLine[] = [];
  let pending = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    pending += chunk;
    for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
      lines.push(JSON.parse(pending.slice(0, end)));
      pending = pending.slice(end + 1);
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => stderr += chunk);
  const done = new Promise<void>((resolve, reject) => {
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`goqite ${args.join(" ")} exited with ${code}: ${stderr.trim()}`));
    });
  });
  done.catch(() => {}); // reported by stop()
  const process: GoProcess = {
    lines,
    stop: () => {
      child.stdin.end();
      return done;
    },
  };
  launched.push(process);
  return process;
}

/** Runs the Go program to its end and returns its lines, less its retries (counted apart). */
async function runGo(args: string[]): Promise<GoLine[]> {
  const child = startGo(args);
  await child.stop();
  return child.lines.filter((line) => line.ev !== "retry");
}

// ---------------------------------------------------------------- engines

interface QueueSettings {
  timeout?: number;
  maxReceive?: number;
}

interface Engine {
  readonly name: "sqlite" | "postgres";
  /** The Go program's flags for this engine, a queue and its settings. */
  goArgs(queue: string, settings?: QueueSettings): string[];
  queue(name: string, settings?: QueueSettings): Queue | PostgresQueue;
  /** Rows of the queue in the table, dead ones included. */
  rows(queue: string): Promise<number>;
  close(): Promise<void>;
}

function goQueueArgs(queue: string, settings: QueueSettings): string[] {
  const args = ["-queue", queue];
  if (settings.timeout !== undefined) args.push("-timeout", `${settings.timeout}ms`);
  if (settings.maxReceive !== undefined) args.push("-max-receive", `${settings.maxReceive}`);
  return args;
}

/** A WAL file: goqite's own schema file creates the table, qite's setup() adds its indexes. */
async function sqliteEngine(goqite: string): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), "qite-interop-db-"));
  const path = join(dir, "interop.db");
  await runGo([
    "-mode",
    "schema",
    "-engine",
    "sqlite",
    "-dsn",
    path,
    "-file",
    join(goqite, "schema_sqlite.sql"),
  ]);
  const db: Database = open(path);
  setup(db);
  return {
    name: "sqlite",
    goArgs: (queue, settings = {}) => [
      "-engine",
      "sqlite",
      "-dsn",
      path,
      ...goQueueArgs(queue, settings),
    ],
    queue: (name, settings = {}) => new Queue({ db, name, ...settings }),
    rows: (queue) =>
      Promise.resolve(
        Number(db.prepare("select count(*) as n from goqite where queue = ?").get(queue)?.n),
      ),
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/** A schema of its own: goqite's own schema file creates the table, qite's setup() adds indexes. */
async function postgresEngine(goqite: string): Promise<Engine> {
  const schema = `qite_interop_${process.pid}`;
  const sql = postgres(PG_URL, { max: 6, onnotice: () => {}, fetch_types: false });
  try {
    await sql.unsafe(`drop schema if exists ${schema} cascade`);
    await sql.unsafe(`create schema ${schema}`);
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw new Error(`PostgreSQL at ${PG_URL} does not answer: ${(error as Error).message}`);
  }
  const url = new URL(PG_URL);
  if (!url.searchParams.has("sslmode")) url.searchParams.set("sslmode", "disable");
  // goqite finds its table on the search_path; public holds pgcrypto for its id default.
  url.searchParams.set("search_path", `${schema},public`);
  const dsn = url.toString();
  await runGo([
    "-mode",
    "schema",
    "-engine",
    "postgres",
    "-dsn",
    dsn,
    "-file",
    join(goqite, "schema_postgres.sql"),
  ]);
  await setupPostgres(sql, { schema });
  return {
    name: "postgres",
    goArgs: (queue, settings = {}) => [
      "-engine",
      "postgres",
      "-dsn",
      dsn,
      ...goQueueArgs(queue, settings),
    ],
    queue: (name, settings = {}) => new PostgresQueue({ sql, schema, name, ...settings }),
    rows: async (queue) => {
      const [row] = await sql.unsafe(
        `select count(*)::int as n from ${schema}.goqite where queue = $1`,
        [queue],
      );
      return Number(row?.n);
    },
    close: async () => {
      await sql.unsafe(`drop schema if exists ${schema} cascade`);
      await sql.end({ timeout: 1 });
    },
  };
}

// ---------------------------------------------------------------- checks and helpers

/** What one scenario found: the violations make it fail. */
class Report {
  readonly violations: string[] = [];
  readonly notes: string[] = [];
  /** Run after the scenario, whether it finished or threw. */
  readonly cleanup: (() => Promise<unknown>)[] = [];
  messages = 0;

  check(ok: boolean, violation: string): void {
    if (!ok) this.violations.push(violation);
  }
}

/** How long handling one message takes on both sides in scenario 3, and one job in scenario 4. */
const WORK_MS = 2;
const JOB_MS = 10;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");
const fromB64 = (text: string | undefined): Uint8Array => Buffer.from(text ?? "", "base64");
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

interface Outgoing {
  label: string;
  body: Uint8Array;
  delay: number;
  priority: number;
}

/** Bodies of every kind, with delays and priorities, for scenarios 1 and 2. */
function outgoing(): Outgoing[] {
  const large = new Uint8Array(1 << 20);
  for (let i = 0; i < large.length; i += 65536) {
    crypto.getRandomValues(large.subarray(i, i + 65536));
  }
  const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
  return [
    { label: "empty", body: new Uint8Array(0), delay: 0, priority: 0 },
    { label: "every byte value", body: everyByte, delay: 0, priority: 1 },
    { label: "1 MiB random", body: large, delay: 0, priority: 0 },
    { label: "UTF-8 text", body: utf8("héllo wörld ✓ 🐢"), delay: 0, priority: 5 },
    {
      label: "invalid UTF-8",
      body: Uint8Array.of(0xff, 0xfe, 0x00, 0x80, 0xc3),
      delay: 0,
      priority: -3,
    },
    { label: "NUL bytes", body: new Uint8Array(16), delay: 0, priority: 2147483647 },
    { label: "text, priority 5", body: utf8("second at priority 5"), delay: 0, priority: 5 },
    { label: "delayed 1.5 s", body: utf8("delayed 1500"), delay: 1500, priority: 9 },
    { label: "delayed 3 s", body: utf8("delayed 3000"), delay: 3000, priority: 0 },
  ];
}

/** The priorities of received messages must never rise (highest first). */
function checkPriorityOrder(report: Report, who: string, priorities: number[]): void {
  for (let i = 1; i < priorities.length; i++) {
    if (priorities[i]! > priorities[i - 1]!) {
      report.violations.push(
        `${who} received priority ${priorities[i]} after ${priorities[i - 1]}`,
      );
      return;
    }
  }
}

/** Waits until `done()` holds, or fails after `ms`. */
async function until(done: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Receives and deletes until the signal fires, calling `seen` for each message. */
async function qiteConsume(
  queue: QueueLike,
  signal: AbortSignal,
  seen: (message: Message) => void,
): Promise<void> {
  while (!signal.aborted) {
    let message: Message;
    try {
      message = await queue.receiveAndWait({ signal, interval: 10 });
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    seen(message);
    await sleep(WORK_MS);
    await queue.delete(message);
  }
}

/** Counts each key; returns the keys seen more than once and the expected ones never seen. */
function tally(
  expected: string[],
  seen: string[],
): { twice: string[]; lost: string[]; extra: string[] } {
  const counts = new Map<string, number>();
  for (const key of seen) counts.set(key, (counts.get(key) ?? 0) + 1);
  const want = new Set(expected);
  return {
    twice: [...counts].filter(([, n]) => n > 1).map(([key]) => key),
    lost: expected.filter((key) => !counts.has(key)),
    extra: [...counts.keys()].filter((key) => !want.has(key)),
  };
}

function checkTally(report: Report, expected: string[], seen: string[], what: string): void {
  const { twice, lost, extra } = tally(expected, seen);
  report.check(lost.length === 0, `${lost.length} ${what} lost (${lost.slice(0, 3).join(", ")})`);
  report.check(
    twice.length === 0,
    `${twice.length} ${what} twice (${twice.slice(0, 3).join(", ")})`,
  );
  report.check(
    extra.length === 0,
    `${extra.length} unexpected ${what} (${extra.slice(0, 3).join(", ")})`,
  );
  report.notes.push(`${lost.length} lost, ${twice.length} twice`);
}

// ---------------------------------------------------------------- scenarios

/** (1) goqite sends bodies of every kind with delays and priorities; qite receives them. */
async function goqiteToQite(engine: Engine, report: Report): Promise<void> {
  const name = "s1-goqite-to-qite";
  const messages = outgoing();
  report.messages = messages.length;
  const file = join(mkdtempSync(join(tmpdir(), "qite-interop-")), "messages.json");
  writeFileSync(
    file,
    JSON.stringify(
      messages.map((m) => ({ body: b64(m.body), delayMs: m.delay, priority: m.priority })),
    ),
  );
  const started = Date.now();
  const sent = await runGo(["-mode", "send", "-in", file, ...engine.goArgs(name)]);
  rmSync(dirname(file), { recursive: true });
  const ids = sent.map((line) => line.id!);
  const queue = engine.queue(name);
  const received: { message: Message; at: number }[] = [];
  for (let m = await queue.receive(); m; m = await queue.receive()) {
    received.push({ message: m, at: Date.now() });
  }
  const ready = messages.filter((m) => m.delay === 0).length;
  report.check(
    received.length === ready,
    `qite received ${received.length} at once, not the ${ready} undelayed`,
  );
  checkPriorityOrder(report, "qite", received.map((r) => Number(r.message.priority)));
  while (received.length < messages.length) {
    const message = await queue.receiveAndWait({ signal: AbortSignal.timeout(6000), interval: 50 });
    received.push({ message, at: Date.now() });
  }
  for (const { message, at } of received) {
    const i = ids.indexOf(message.id);
    const m = messages[i];
    if (!m) {
      report.violations.push(`qite received an id goqite did not send: ${message.id}`);
      continue;
    }
    report.check(sameBytes(message.body, m.body), `body of "${m.label}" differs`);
    report.check(Number(message.priority) === m.priority, `priority of "${m.label}" differs`);
    report.check(
      at >= started + m.delay,
      `"${m.label}" received ${started + m.delay - at} ms early`,
    );
    await queue.delete(message);
  }
  checkTally(report, ids, received.map((r) => r.message.id), "messages");
  report.notes.push("bodies, ids and priorities equal; highest priority first; no delay cut short");
  report.check((await engine.rows(name)) === 0, "rows left after deleting");
  await queue.close();
}

/** (2) qite sends the same messages; goqite receives them. */
async function qiteToGoqite(engine: Engine, report: Report): Promise<void> {
  const name = "s2-qite-to-goqite";
  const messages = outgoing();
  report.messages = messages.length;
  const queue = engine.queue(name);
  const ids: string[] = [];
  const sentAt: number[] = [];
  for (const m of messages) {
    sentAt.push(Date.now());
    ids.push(await queue.send({ body: m.body, delay: m.delay, priority: m.priority }));
  }
  const lines = (await runGo([
    "-mode",
    "receive",
    "-delete",
    "-idle",
    "4s",
    "-count",
    `${messages.length}`,
    ...engine.goArgs(name),
  ])).filter((line) => line.ev === "received");
  const ready = messages.filter((m) => m.delay === 0).length;
  const first = lines.slice(0, ready).map((line) => messages[ids.indexOf(line.id!)]);
  report.check(
    first.every((m) => m?.delay === 0),
    `goqite received a delayed message among the first ${ready}`,
  );
  checkPriorityOrder(report, "goqite", first.map((m) => m?.priority ?? NaN));
  for (const line of lines) {
    const i = ids.indexOf(line.id!);
    const m = messages[i];
    if (!m) {
      report.violations.push(`goqite received an id qite did not send: ${line.id}`);
      continue;
    }
    report.check(sameBytes(fromB64(line.body), m.body), `body of "${m.label}" differs`);
    // goqite compares times at millisecond precision, truncated: allow 1 ms.
    report.check(line.t >= sentAt[i]! + m.delay - 1, `"${m.label}" received early`);
  }
  checkTally(report, ids, lines.map((line) => line.id!), "messages");
  report.notes.push("bodies and ids equal; highest priority first; no delay cut short");
  report.check((await engine.rows(name)) === 0, "rows left after goqite deleted");
  await queue.close();
}

/** (3) goqite and qite consumers and producers on one queue at once. */
async function concurrent(engine: Engine, report: Report, perProducer: number): Promise<void> {
  const name = "s3-concurrent";
  report.messages = 2 * perProducer;
  const goConsumer = startGo([
    "-mode",
    "consume",
    "-workers",
    "2",
    "-work",
    `${WORK_MS}ms`,
    ...engine.goArgs(name),
  ]);
  const qiteQueues = [engine.queue(name), engine.queue(name)];
  const stop = new AbortController();
  const qiteSeen: string[] = [];
  const consumers = qiteQueues.map((queue) =>
    qiteConsume(queue, stop.signal, (m) => qiteSeen.push(new TextDecoder().decode(m.body)))
      .catch((error) => report.violations.push(`qite consumer: ${error.message}`))
  );
  report.cleanup.push(() => {
    stop.abort();
    return Promise.all(consumers);
  });
  const producer = engine.queue(name);
  const expected: string[] = [];
  const qiteProducing = (async () => {
    for (let i = 0; i < perProducer; i++) {
      const body = `ts-${i}`;
      expected.push(body);
      await producer.send({ body, priority: i % 3 });
    }
  })();
  const goSent = await runGo([
    "-mode",
    "produce",
    "-count",
    `${perProducer}`,
    "-prefix",
    "go-",
    ...engine.goArgs(name),
  ]);
  await qiteProducing;
  expected.push(...goSent.map((line) => new TextDecoder().decode(fromB64(line.body))));
  const handled = (): number =>
    qiteSeen.length + goConsumer.lines.filter((line) => line.ev === "received").length;
  await until(
    async () => handled() >= expected.length && (await engine.rows(name)) === 0,
    60_000,
    "every message handled and deleted",
  ).catch((error) => report.violations.push(error.message));
  await sleep(200); // anything handed out twice would show now
  stop.abort();
  await Promise.all([goConsumer.stop(), ...consumers])
    .catch((error) => report.violations.push(error.message));
  const goSeen = goConsumer.lines.filter((line) => line.ev === "received")
    .map((line) => new TextDecoder().decode(fromB64(line.body)));
  checkTally(report, expected, [...goSeen, ...qiteSeen], "messages");
  report.check(goSeen.length > 0 && qiteSeen.length > 0, "one side handled no message");
  report.notes.unshift(`goqite handled ${goSeen.length}, qite ${qiteSeen.length}`);
  for (const queue of [...qiteQueues, producer]) await queue.close();
}

/** (4) Both create jobs; goqite's runner and qite's run them on one queue. */
async function jobs(engine: Engine, report: Report, perCreator: number): Promise<void> {
  const name = "s4-jobs";
  const names = ["email", "resize"];
  report.messages = 2 * perCreator;
  const goRunner = startGo([
    "-mode",
    "run-jobs",
    "-names",
    names.join(","),
    "-work",
    `${JOB_MS}ms`,
    ...engine.goArgs(name),
  ]);
  const queue = engine.queue(name);
  const runner = new Runner({ queue, pollInterval: 20 });
  const qiteRan: string[] = [];
  for (const job of names) {
    runner.register(job, async (body) => {
      qiteRan.push(`${job}:${new TextDecoder().decode(body)}`);
      await sleep(JOB_MS);
    });
  }
  const stop = new AbortController();
  const running = runner.start({ signal: stop.signal })
    .catch((error) => report.violations.push(`qite runner: ${error.message}`));
  report.cleanup.push(() => {
    stop.abort();
    return running;
  });
  const expected: string[] = [];
  const creating = (async () => {
    for (let i = 0; i < perCreator; i++) {
      const job = names[i % names.length]!;
      expected.push(`${job}:ts-job-${i}`);
      await createJob(queue, job, `ts-job-${i}`);
    }
  })();
  const created = await runGo([
    "-mode",
    "create-jobs",
    "-names",
    names.join(","),
    "-count",
    `${perCreator}`,
    "-prefix",
    "go-job-",
    ...engine.goArgs(name),
  ]);
  await creating;
  expected.push(
    ...created.map((line) => `${line.name}:${new TextDecoder().decode(fromB64(line.body))}`),
  );
  const goRan = (): GoLine[] => goRunner.lines.filter((line) => line.ev === "ran");
  await until(
    async () =>
      qiteRan.length + goRan().length >= expected.length && (await engine.rows(name)) === 0,
    60_000,
    "every job run and deleted",
  ).catch((error) => report.violations.push(error.message));
  await sleep(200);
  stop.abort();
  await Promise.all([goRunner.stop(), running])
    .catch((error) => report.violations.push(error.message));
  const goSeen = goRan().map((line) =>
    `${line.name}:${new TextDecoder().decode(fromB64(line.body))}`
  );
  checkTally(report, expected, [...goSeen, ...qiteRan], "jobs");
  report.check(goSeen.length > 0 && qiteRan.length > 0, "one runner ran no job");
  report.notes.unshift(`goqite's runner ran ${goSeen.length}, qite's ${qiteRan.length}`);
  await queue.close();
}

/** (5) A lease extended by one side holds for the other, and ends when the extension does. */
async function extend(engine: Engine, report: Report): Promise<void> {
  const name = "s5-extend";
  const settings = { timeout: 1000 };
  const queue = engine.queue(name, settings);
  report.messages = 2;

  // goqite receives (a 1 s lease), extends by 3 s; qite must not get it before then.
  const id = await queue.send({ body: "extended by goqite" });
  await runGo(["-mode", "receive", "-count", "1", ...engine.goArgs(name, settings)]);
  const before = Date.now(); // goqite's new timeout is at least 3 s after this
  await runGo([
    "-mode",
    "extend",
    "-id",
    id,
    "-delay",
    "3s",
    ...engine.goArgs(name, settings),
  ]);
  await sleep(1500 - (Date.now() - before));
  report.check((await queue.receive()) === undefined, "qite received a message goqite extended");
  const again = await queue.receiveAndWait({ signal: AbortSignal.timeout(5000), interval: 20 });
  const heldFor = Date.now() - before;
  report.check(again.id === id, "qite received another message");
  report.check(heldFor >= 2999, `goqite's extension held ${heldFor} ms, not 3000`);
  await queue.delete(again);
  const notes = [`goqite's 3 s extension held ${heldFor} ms for qite`];

  // qite receives (a 1 s lease), extends by 3 s; goqite must not get it before then.
  const id2 = await queue.send({ body: "extended by qite" });
  const message = await queue.receive();
  report.check(message?.id === id2, "qite did not receive its message");
  const extendedAt = Date.now(); // qite's new timeout is at least 3 s after this
  await queue.extend(message!, 3000);
  const early = await runGo([
    "-mode",
    "receive",
    "-idle",
    "1500ms",
    ...engine.goArgs(name, settings),
  ]);
  report.check(early.length === 0, "goqite received a message qite extended");
  const late = await runGo([
    "-mode",
    "receive",
    "-count",
    "1",
    "-idle",
    "4s",
    "-delete",
    ...engine.goArgs(name, settings),
  ]);
  const got = late[0];
  report.check(got?.id === id2, "goqite did not receive the message after qite's extension");
  if (got) {
    report.check(got.t - extendedAt >= 2999, `qite's extension held ${got.t - extendedAt} ms`);
    notes.push(`qite's for goqite ${got.t - extendedAt} ms`);
  }
  report.notes.push(notes.join("; "));
  await queue.close();
}

/** (6) Messages one side received maxReceive times are dead for the other. */
async function dead(engine: Engine, report: Report): Promise<void> {
  const count = 5;
  const settings = { timeout: 200, maxReceive: 2 };
  report.messages = 2 * count;

  // goqite uses them up; qite counts them dead and never hands them out.
  const name = "s6-dead-by-goqite";
  const sent = await runGo([
    "-mode",
    "produce",
    "-count",
    `${count}`,
    ...engine.goArgs(name, settings),
  ]);
  const receives = await runGo([
    "-mode",
    "receive",
    "-idle",
    "800ms",
    ...engine.goArgs(name, settings),
  ]);
  const perId = tally(
    sent.map((line) => line.id!),
    receives.map((line) => line.id!),
  );
  report.check(
    receives.length === 2 * count && perId.lost.length === 0,
    `goqite received ${receives.length} times, not ${2 * count}`,
  );
  const queue = engine.queue(name, settings);
  const deadCount = await queue.countDead();
  report.check(deadCount === count, `qite's countDead() is ${deadCount}, not ${count}`);
  report.check((await queue.receive()) === undefined, "qite received a message goqite used up");
  const listed = (await queue.listDead()).messages.map((m) => m.id).sort();
  report.check(
    JSON.stringify(listed) === JSON.stringify(sent.map((line) => line.id).sort()),
    "qite's listDead() lists other ids",
  );
  await queue.close();

  // qite uses them up; goqite never hands them out.
  const name2 = "s6-dead-by-qite";
  const queue2 = engine.queue(name2, settings);
  for (let i = 0; i < count; i++) await queue2.send({ body: `dead-${i}` });
  let qiteReceives = 0;
  const deadline = Date.now() + 5000;
  while ((await queue2.countDead()) < count && Date.now() < deadline) {
    if (await queue2.receive()) qiteReceives++;
    else await sleep(20);
  }
  report.check(qiteReceives === 2 * count, `qite received ${qiteReceives} times, not ${2 * count}`);
  const late = await runGo([
    "-mode",
    "receive",
    "-idle",
    "500ms",
    ...engine.goArgs(name2, settings),
  ]);
  report.check(late.length === 0, `goqite received ${late.length} messages qite used up`);
  report.notes.push(
    `goqite's used-up ${deadCount} dead for qite; qite's ${count} never given to goqite`,
  );
  await queue2.close();
}

// ---------------------------------------------------------------- main

interface Row {
  engine: string;
  scenario: string;
  report: Report;
  ms: number;
}

async function main(): Promise<void> {
  const go = findGo();
  const goqite = findGoqite();
  const chosen = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
  const engines = chosen.length > 0 ? chosen : ["sqlite", "postgres"];
  binary = build(go, goqite.src);
  const [version] = await runGo(["-mode", "version"]);
  const runtime = "Deno" in globalThis
    ? `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
    : "Bun" in globalThis
    ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
    : `Node ${process.versions.node}`;
  console.log(
    `qite ↔ goqite ${goqite.commit.slice(0, 12)} · ${version?.go} · ${runtime} · ` +
      new Date().toISOString().slice(0, 10),
  );
  const scenarios: [string, (engine: Engine, report: Report) => Promise<void>][] = [
    ["1 goqite sends, qite receives", goqiteToQite],
    ["2 qite sends, goqite receives", qiteToGoqite],
    [
      "3 concurrent producers and consumers",
      (e, r) => concurrent(e, r, e.name === "sqlite" ? 500 : 300),
    ],
    ["4 jobs: both create, both run", (e, r) => jobs(e, r, e.name === "sqlite" ? 200 : 150)],
    ["5 extend holds for the other", extend],
    ["6 used up by one, dead for the other", dead],
  ];
  const rows: Row[] = [];
  for (const kind of engines) {
    if (kind !== "sqlite" && kind !== "postgres") unavailable(`unknown engine ${kind}`);
    const engine = kind === "sqlite"
      ? await sqliteEngine(goqite.src)
      : await postgresEngine(goqite.src);
    try {
      for (const [scenario, run] of scenarios) {
        const report = new Report();
        const started = performance.now();
        launched = [];
        try {
          await run(engine, report);
        } catch (error) {
          report.violations.push(`error: ${(error as Error).message}`);
        }
        for (const fn of report.cleanup) await fn();
        for (const child of launched) await child.stop().catch(() => {});
        noteGoqiteTrouble(report, launched);
        const row = { engine: kind, scenario, report, ms: performance.now() - started };
        rows.push(row);
        console.error(
          `${kind} · ${scenario}: ${report.violations.length === 0 ? "ok" : "FAIL"} ` +
            [...report.violations, ...report.notes].join("; "),
        );
      }
    } finally {
      await engine.close();
    }
  }
  rmSync(dirname(binary), { recursive: true, force: true });
  printTable(rows);
  const failed = rows.filter((row) => row.report.violations.length > 0).length;
  console.log(`${rows.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

/** Notes the serialization failures goqite's calls met (and retried) and its runner's errors. */
function noteGoqiteTrouble(report: Report, processes: GoProcess[]): void {
  const lines = processes.flatMap((child) => child.lines);
  const retries = new Map<string, number>();
  for (const line of lines.filter((line) => line.ev === "retry")) {
    retries.set(line.op!, (retries.get(line.op!) ?? 0) + 1);
  }
  if (retries.size > 0) {
    const counts = [...retries].map(([op, n]) => `${op} ${n}`).join(", ");
    report.notes.push(`goqite's serialization failures, retried: ${counts}`);
  }
  const errors = lines.filter((line) => line.ev === "error");
  if (errors.length > 0) {
    const first = (errors[0]!.error ?? "").replace(/m_[0-9a-f]{32}/g, "m_…");
    report.notes.push(`goqite's runner logged ${errors.length} errors (${first})`);
  }
}

function printTable(rows: Row[]): void {
  console.log("");
  console.log("| engine | scenario | messages | seconds | result | details |");
  console.log("| --- | --- | ---: | ---: | --- | --- |");
  for (const { engine, scenario, report, ms } of rows) {
    const result = report.violations.length === 0 ? "ok" : "FAIL";
    const details = [...report.violations, ...(report.violations.length ? [] : report.notes)];
    console.log(
      `| ${engine} | ${scenario} | ${report.messages} | ${(ms / 1000).toFixed(1)} | ${result} | ${
        details.join("; ").replaceAll("|", "\\|")
      } |`,
    );
  }
}

await main();
