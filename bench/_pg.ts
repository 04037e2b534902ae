/**
 * The PostgreSQL workloads (see `postgres.ts`): each trial gets a fresh schema on the server,
 * set up untimed, and dropped afterwards.
 *
 * @module
 */

import postgres from "postgres";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { PostgresQueue, setup } from "../postgres/mod.ts";
import { Runner } from "../jobs/mod.ts";
import { encodeJob } from "../jobs/envelope.ts";
import { buildSql, tableName } from "../src/postgres/_sql.ts";
import { newId } from "../src/_time.ts";
import { scriptCommand } from "./_runtime.ts";

/** The server the bench uses. */
export const PG_URL: string = process.env.QITE_PG_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

/** The clients the bench can use. */
export type ClientName = "postgres.js" | "Bun.sql";

/** A client, with what the raw workloads need of it. */
export interface BenchClient {
  readonly name: ClientName;
  readonly sql: object;
  /** Runs one statement as qite does (prepared). */
  query(text: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  end(): Promise<void>;
}

/** Opens a client; `max` connections. */
export function openClient(name: ClientName, max = 10): BenchClient {
  if (name === "Bun.sql") {
    const Bun = (globalThis as unknown as {
      Bun: {
        SQL: new (url: string, options: object) => {
          unsafe(text: string, params: unknown[]): Promise<Record<string, unknown>[]>;
          close(): Promise<void>;
        };
      };
    }).Bun;
    const sql = new Bun.SQL(PG_URL, { max });
    return { name, sql, query: (text, params) => sql.unsafe(text, params), end: () => sql.close() };
  }
  const sql = postgres(PG_URL, { max, onnotice: () => {}, fetch_types: false });
  return {
    name,
    sql,
    query: (text, params) =>
      sql.unsafe(text, params as never[], { prepare: true }) as unknown as Promise<
        Record<string, unknown>[]
      >,
    end: () => sql.end({ timeout: 5 }),
  };
}

/** What a workload is run with. */
export interface Context {
  readonly client: ClientName;
  readonly smoke: boolean;
}

/** One timed run of a workload. */
export interface Trial {
  readonly units: number;
  /** The timed part, in parts; the wake-up workload returns latencies in ms. */
  run(count: number): Promise<number[] | void>;
  /** Untimed: checks the work and drops the schema. */
  close(): Promise<void>;
  /** Serialization failures met (the processes workload). */
  conflicts?(): number;
}

/** A workload. */
export interface Workload {
  readonly id: string;
  readonly title: string;
  /** Workloads run by turns in one run. */
  readonly group: string;
  readonly versus?: string;
  readonly unit: "msg" | "job" | "wake-up";
  /** Its trial runs in one part only. */
  readonly whole?: boolean;
  /** Units per trial, and in smoke mode. */
  readonly sizes: readonly [number, number];
  prepare(context: Context, units: number): Promise<Trial>;
}

const QUEUE = "bench";
const BODY = new TextEncoder().encode("yo");
const MAX_RECEIVE = 3;
const TIMEOUT_MS = 5000;
const BATCH = 100;

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`Benchmark check failed: ${what}`);
}

/** A fresh, set-up schema and a client on it. */
interface Store {
  readonly schema: string;
  readonly client: BenchClient;
  /** Rows left in the schema's table. */
  remaining(): Promise<number>;
  close(): Promise<void>;
}

async function openStore(context: Context, max = 10): Promise<Store> {
  const schema = `qite_bench_${newId().slice(-12)}`;
  const client = openClient(context.client, max);
  await setup(client.sql, { schema });
  return {
    schema,
    client,
    remaining: async () =>
      Number(
        (await client.query(`select count(*)::int4 as n from "${schema}".goqite`, []))[0]?.n,
      ),
    close: async () => {
      try {
        await client.query(`drop schema "${schema}" cascade`, []);
      } finally {
        await client.end();
      }
    },
  };
}

function trialOf(
  store: Store,
  units: number,
  run: (count: number) => Promise<number[] | void>,
  { close, conflicts }: { close?: () => Promise<void>; conflicts?: () => number } = {},
): Trial {
  return {
    units,
    run,
    async close(): Promise<void> {
      try {
        await close?.();
        check(await store.remaining() === 0, "every message was deleted");
      } finally {
        await store.close();
      }
    },
    ...(conflicts === undefined ? {} : { conflicts }),
  };
}

function queueOn(store: Store, options: { timeout?: number } = {}): PostgresQueue {
  return new PostgresQueue({
    sql: store.client.sql,
    schema: store.schema,
    name: QUEUE,
    ...options,
  });
}

/** goqite's benchmark, through the queue: send, receive, delete, one message at a time. */
const single: Workload = {
  id: "single",
  title: "send+receive+delete, PostgresQueue",
  group: "single",
  versus: "raw",
  unit: "msg",
  sizes: [2_000, 20],
  async prepare(context, units): Promise<Trial> {
    const store = await openStore(context);
    const queue = queueOn(store);
    return trialOf(store, units, async (count) => {
      for (let i = 0; i < count; i++) {
        await queue.send({ body: BODY });
        const message = await queue.receive();
        await queue.delete(message!);
      }
    }, { close: () => queue.close() });
  },
};

/** The limit: the three statements qite runs (its SQL, its parameters), straight through the client. */
const raw: Workload = {
  id: "raw",
  title: "send+receive+delete, raw SQL",
  group: "single",
  unit: "msg",
  sizes: single.sizes,
  async prepare(context, units): Promise<Trial> {
    const store = await openStore(context);
    const sql = buildSql(tableName(store.schema), MAX_RECEIVE);
    const receive = sql.receive(1);
    const channel = `qite.${store.schema}`;
    return trialOf(store, units, async (count) => {
      for (let i = 0; i < count; i++) {
        await store.client.query(sql.sendOne, [
          null,
          QUEUE,
          newId(),
          BODY,
          0,
          0,
          channel,
          `raw 1 ${QUEUE}`,
        ]);
        const [row] = await store.client.query(receive, [null, QUEUE, TIMEOUT_MS]);
        await store.client.query(sql.deleteOneFenced, [
          QUEUE,
          row!.id,
          row!.received,
          row!.created_us,
        ]);
      }
    });
  },
};

/** Batches of 100: sendBatch, receiveBatch(100), deleteBatch. */
const batch: Workload = {
  id: "batch",
  title: "batches of 100, PostgresQueue",
  group: "batch",
  versus: "batch-raw",
  unit: "msg",
  sizes: [20_000, 200],
  async prepare(context, units): Promise<Trial> {
    const store = await openStore(context);
    const queue = queueOn(store);
    const messages = Array.from({ length: BATCH }, () => ({ body: BODY }));
    return trialOf(store, units, async (count) => {
      for (let i = 0; i < count; i += BATCH) {
        await queue.sendBatch(messages);
        const received = await queue.receiveBatch(BATCH);
        check(received.length === BATCH, "a whole batch was received");
        await queue.deleteBatch(received);
      }
    }, { close: () => queue.close() });
  },
};

/** The limit for batches: the three statements qite runs, raw. */
const batchRaw: Workload = {
  id: "batch-raw",
  title: "batches of 100, raw SQL",
  group: "batch",
  unit: "msg",
  sizes: batch.sizes,
  async prepare(context, units): Promise<Trial> {
    const store = await openStore(context);
    const sql = buildSql(tableName(store.schema), MAX_RECEIVE);
    const receive = sql.receive(BATCH);
    const channel = `qite.${store.schema}`;
    const bodies = new Uint8Array(BODY.length * BATCH);
    for (let i = 0; i < BATCH; i++) bodies.set(BODY, i * BODY.length);
    const lengths = `{${Array(BATCH).fill(BODY.length).join(",")}}`;
    const zeros = `{${Array(BATCH).fill(0).join(",")}}`;
    return trialOf(store, units, async (count) => {
      for (let i = 0; i < count; i += BATCH) {
        const ids = Array.from({ length: BATCH }, newId);
        await store.client.query(sql.sendMany, [
          null,
          QUEUE,
          `{${ids.map((id) => `"${id}"`).join(",")}}`,
          bodies,
          lengths,
          zeros,
          zeros,
          channel,
          `raw ${BATCH} ${QUEUE}`,
        ]);
        const rows = await store.client.query(receive, [null, QUEUE, TIMEOUT_MS]);
        check(rows.length === BATCH, "a whole batch was received");
        await store.client.query(sql.delete, [
          QUEUE,
          `{${rows.map((row) => `"${row.id}"`).join(",")}}`,
          `{${rows.map((row) => row.received).join(",")}}`,
          `{${rows.map((row) => row.created_us).join(",")}}`,
        ]);
      }
    });
  },
};

/** Inserts `units` no-op jobs, untimed, in batches. */
async function createJobs(queue: PostgresQueue, units: number): Promise<void> {
  const body = encodeJob("noop", BODY);
  for (let i = 0; i < units; i += 1000) {
    await queue.sendBatch(Array.from({ length: Math.min(1000, units - i) }, () => ({ body })));
  }
}

/** The job runner draining no-op jobs, with its defaults or with settings given. */
function runnerWorkload(
  id: string,
  title: string,
  settings: { limit?: number; prefetch?: number },
): Workload {
  return {
    id,
    title,
    group: id,
    unit: "job",
    whole: true,
    sizes: [20_000, 200],
    async prepare(context, units): Promise<Trial> {
      const store = await openStore(context);
      const queue = queueOn(store, { timeout: 30_000 });
      await createJobs(queue, units);
      return trialOf(store, units, async () => {
        const stop = new AbortController();
        const jobs = new Runner({ queue, ...settings });
        let done = 0;
        jobs.register("noop", (): void => {
          if (++done === units) stop.abort();
        });
        await jobs.start({ signal: stop.signal });
        check(done === units, "every job ran once");
      }, { close: () => queue.close() });
    },
  };
}

/**
 * For scale (the issue's reference): pre-inserted rows drained by a SKIP LOCKED claim of 100
 * and a delete of them, raw, by one consumer.
 */
const drainRaw: Workload = {
  id: "drain-raw",
  title: "drain, raw claim+delete of 100",
  group: "drain-raw",
  unit: "job",
  whole: true,
  sizes: [20_000, 200],
  async prepare(context, units): Promise<Trial> {
    const store = await openStore(context);
    const queue = queueOn(store, { timeout: 30_000 });
    await createJobs(queue, units);
    await queue.close();
    const table = tableName(store.schema);
    const claim = `update ${table} set timeout = now() + interval '30 seconds',
      received = received + 1
      where id in (select id from ${table} where queue = $1 and received = 0
        and timeout <= created and timeout <= now()
        order by priority desc, created limit ${BATCH} for update skip locked)
      returning id`;
    const remove = `delete from ${table} where id = any($1::text[])`;
    return trialOf(store, units, async () => {
      let done = 0;
      while (done < units) {
        const rows = await store.client.query(claim, [QUEUE]);
        check(rows.length > 0, "rows were claimed");
        await store.client.query(remove, [`{${rows.map((row) => `"${row.id}"`).join(",")}}`]);
        done += rows.length;
      }
    });
  },
};

const CHILD = fileURLToPath(new URL("./_pg_child.ts", import.meta.url));

/** A child process of `_pg_child.ts` on this runtime: lines in, lines out. */
interface Child {
  send(line: string): void;
  /** The next line it prints. */
  next(): Promise<string>;
  close(): Promise<void>;
}

function startChild(args: string[]): Child {
  const [exe, prefix] = scriptCommand(CHILD);
  const child = spawn(exe, [...prefix, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  let buffer = "";
  const waiting: Array<(line: string) => void> = [];
  const lines: string[] = [];
  child.stdout.on("data", (chunk: Uint8Array) => {
    buffer += new TextDecoder().decode(chunk);
    for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      const resolve = waiting.shift();
      if (resolve) resolve(line);
      else lines.push(line);
    }
  });
  return {
    send: (line) => void child.stdin.write(`${line}\n`),
    next: () =>
      lines.length > 0 ? Promise.resolve(lines.shift()!) : Promise.race([
        new Promise<string>((resolve) => waiting.push(resolve)),
        exited.then((code) => {
          throw new Error(`the child exited with ${code}`);
        }),
      ]),
    close: async () => {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`the child exited with ${code}`);
    },
  };
}

/** Wake-up latency: another process sends on its own client, `receiveAndWait` here receives. */
const wakeup: Workload = {
  id: "wakeup",
  title: "wake-up from another process",
  group: "wakeup",
  unit: "wake-up",
  sizes: [200, 5],
  async prepare(context, units): Promise<Trial> {
    const store = await openStore(context);
    const queue = queueOn(store);
    const sender = startChild(["send", context.client, store.schema, QUEUE]);
    check(await sender.next() === "ready", "the sender is ready");
    const decoder = new TextDecoder();
    // The subscription starts with the first wait: one untimed wake-up.
    const first = queue.receiveAndWait({ signal: AbortSignal.timeout(10_000) });
    sender.send("go");
    await queue.delete(await first);
    return trialOf(store, units, async (count) => {
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const waiting = queue.receiveAndWait({ signal: AbortSignal.timeout(10_000) });
        await new Promise((resolve) => setTimeout(resolve, 2));
        sender.send("go");
        const message = await waiting;
        const received = performance.timeOrigin + performance.now();
        latencies.push(received - Number(decoder.decode(message.body)));
        await queue.delete(message);
      }
      return latencies;
    }, {
      close: async () => {
        await sender.close();
        await queue.close();
      },
    });
  },
};

/**
 * `n` consumer processes, each a Runner with its defaults, draining no-op jobs created untimed;
 * timed until every job has run. Counts the serialization failures the children met (retried
 * inside qite, never surfaced) and the server's rolled-back transactions.
 */
function processes(n: number): Workload {
  return {
    id: `processes-${n}`,
    title: `runner drain, ${n} consumer process${n === 1 ? "" : "es"}`,
    group: `processes-${n}`,
    unit: "job",
    whole: true,
    sizes: [20_000, 200],
    async prepare(context, units): Promise<Trial> {
      const store = await openStore(context);
      const queue = queueOn(store, { timeout: 30_000 });
      await createJobs(queue, units);
      await queue.close();
      const children = Array.from(
        { length: n },
        () => startChild(["run", context.client, store.schema, QUEUE]),
      );
      for (const child of children) check(await child.next() === "ready", "a runner is ready");
      let conflicts = 0;
      const table = tableName(store.schema);
      const left = async (): Promise<boolean> =>
        (await store.client.query(`select exists (select 1 from ${table}) as left`, []))[0]
          ?.left === true;
      return trialOf(store, units, async () => {
        for (const child of children) child.send("go");
        while (await left()) await new Promise((resolve) => setTimeout(resolve, 5));
      }, {
        close: async () => {
          for (const child of children) {
            child.send("stop");
            conflicts += Number(await child.next());
            await child.close();
          }
        },
        conflicts: () => conflicts,
      });
    },
  };
}

/** Every workload, in the order the tables show them. */
export const WORKLOADS: readonly Workload[] = [
  raw,
  single,
  batchRaw,
  batch,
  drainRaw,
  runnerWorkload("runner", "job runner drain, defaults", {}),
  runnerWorkload("runner-tuned", "job runner drain, limit 8, prefetch 1000", {
    limit: 8,
    prefetch: 1000,
  }),
  wakeup,
  processes(1),
  processes(2),
  processes(4),
  processes(8),
];
