/**
 * The workloads, shared by `queue_bench.ts` (`deno bench`) and `run.ts` (every runtime). Each
 * prepares a fresh database untimed, and returns a trial whose `run(count)` calls are the timed
 * part: a trial can be run in parts, so that the workloads compared with each other can take
 * turns (see `_trial.ts`).
 *
 * @module
 */

import process from "node:process";
import { Queue } from "../mod.ts";
import type { Bindable, Row } from "../mod.ts";
import { createJob, Runner } from "../jobs/mod.ts";
import { buildSql, insertSql } from "../src/sqlite/_ops.ts";
import { formatTime, newId } from "../src/_time.ts";
import { fill, timeLiteral } from "./_fill.ts";
import { httpWorkload } from "./_http.ts";
import { PROCESS_WORKLOADS } from "./_processes.ts";
import { startSender } from "./_spawn.ts";
import { type OpenDriver, openStore, type StorageName, STORAGES, type Store } from "./_storage.ts";

/** What a workload is run with. */
export interface Context {
  readonly storage: StorageName;
  /** The driver to open; the runtime's default when undefined. */
  readonly driver: OpenDriver | undefined;
  /** Tiny sizes, for a smoke test. */
  readonly smoke: boolean;
  /** An experiment's change to the filled database, made before the timed part (`levers.ts`). */
  readonly tweak?: (store: Store) => void;
  /** The job runner's `prefetch` (`levers.ts`); its default when undefined. */
  readonly prefetch?: number;
}

/** One timed run of a workload. */
export interface Trial {
  /** How many units (messages, jobs, wake-ups) the trial handles in all. */
  readonly units: number;
  /** The store, for its settings. */
  readonly store: Store;
  /** The timed part; the wake-up workload returns each wake-up's latency in ms. */
  run(count: number): Promise<number[] | void>;
  /** Totals the trial counted over its timed parts (say, retried writes), read after them. */
  counters?(): Record<string, number>;
  /** Untimed clean-up; checks that the work was done. */
  close(): Promise<void>;
}

/** A workload. */
export interface Workload {
  /** A short stable key. */
  readonly id: string;
  /** What it does, for the tables. */
  readonly title: string;
  /** Workloads shown together (one `deno bench` group). */
  readonly group: string;
  /**
   * The baseline this workload is compared with, in the same run: as a percentage of its
   * units/s (`percent`), or as a multiple of its time per unit (`times`).
   */
  readonly versus?: { readonly id: string; readonly as: "percent" | "times" };
  /**
   * What is counted per second; `cpu` workloads report the share of a core their process used
   * instead (their trial returns it).
   */
  readonly unit: "msg" | "cycle" | "job" | "wake-up" | "send" | "cpu";
  /** Where it runs. */
  readonly storages: readonly StorageName[];
  /** Its trial runs in one part only (one call of `run(units)`). */
  readonly whole?: boolean;
  /** Units per trial: in memory, on WAL with NORMAL, on WAL with FULL, and in smoke mode. */
  readonly sizes: Sizes;
  /** Prepares a trial of `units` units (see {@linkcode unitsOf}). */
  prepare(context: Context, units: number): Promise<Trial>;
}

const QUEUE = "bench";
const BODY = new TextEncoder().encode("yo");
/** The queue's default `maxReceive` and `timeout`, which the raw workload writes as qite does. */
const MAX_RECEIVE = 3;
const TIMEOUT_MS = 5000;

/** Units per trial: in memory, on WAL with NORMAL, on WAL with FULL, and in smoke mode. */
export type Sizes = readonly [memory: number, normal: number, full: number, smoke: number];

/** How many units a trial of `workload` handles in `context`. */
export function unitsOf(workload: Workload, context: Context): number {
  return context.smoke ? workload.sizes[3] : workload.sizes[STORAGES.indexOf(context.storage)]!;
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`Benchmark check failed: ${what}`);
}

function remaining(store: Store): number {
  return Number(store.db.prepare("select count(*) as n from goqite").get()?.n);
}

/**
 * A trial, once `context`'s tweak is applied; on close, it stops `stop`, checks that `left`
 * messages remain, and closes the store.
 */
function trialOf(
  context: Context,
  store: Store,
  units: number,
  run: (count: number) => Promise<number[] | void>,
  { left = 0, stop }: { left?: number; stop?: () => Promise<void> } = {},
): Trial {
  context.tweak?.(store);
  return {
    units,
    store,
    run,
    async close(): Promise<void> {
      try {
        await stop?.();
        check(remaining(store) === left, `${left} messages are left in the table`);
      } finally {
        store.close();
      }
    },
  };
}

/** 1. goqite's benchmark: send, receive, delete, one message at a time, through `Queue`. */
const single: Workload = {
  id: "single",
  title: "send+receive+delete, Queue",
  group: "single",
  versus: { id: "goqite-raw", as: "percent" },
  unit: "msg",
  storages: STORAGES,
  sizes: [20_000, 5_000, 1_000, 50],
  prepare(context, units): Promise<Trial> {
    const store = openStore(context.storage, context.driver);
    const queue = new Queue({ db: store.db, name: QUEUE });
    return Promise.resolve(trialOf(context, store, units, async (count): Promise<void> => {
      for (let i = 0; i < count; i++) {
        await queue.send({ body: BODY });
        const message = await queue.receive();
        await queue.delete(message!);
      }
    }));
  },
};

/** A native statement of node:sqlite or bun:sqlite, as the raw workloads use it. */
interface NativeStatement {
  run(...params: Bindable[]): unknown;
  all(...params: Bindable[]): Row[];
}

/** Prepares `sql` on the driver's own handle, bypassing qite. */
function prepareNative(store: Store, sql: string): NativeStatement {
  return (store.db.native as { prepare(sql: string): NativeStatement }).prepare(sql);
}

/**
 * 2. The limit: qite's three statements (its SQL text, its parameter values), prepared once on
 * the driver's own handle, called with no qite code around them.
 */
const raw: Workload = {
  id: "raw",
  title: "send+receive+delete, qite's SQL raw",
  group: "single",
  versus: { id: "goqite-raw", as: "percent" },
  unit: "msg",
  storages: STORAGES,
  sizes: single.sizes,
  prepare(context, units): Promise<Trial> {
    const store = openStore(context.storage, context.driver);
    const sql = buildSql(MAX_RECEIVE);
    const insert = prepareNative(store, sql.send);
    const receive = prepareNative(store, sql.receive(1));
    const remove = prepareNative(store, sql.delete);
    return Promise.resolve(trialOf(context, store, units, (count): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const created = formatTime(Date.now());
        insert.run(newId(), created, created, QUEUE, BODY, created, 0);
        const now = Date.now();
        const row = receive.all(formatTime(now + TIMEOUT_MS), QUEUE, formatTime(now))[0];
        remove.run(QUEUE, row!.id as string);
      }
      return Promise.resolve();
    }));
  },
};

/**
 * 2b. The physical limit for goqite's semantics: goqite's own three statements (its insert with
 * the defaults of its schema, its receive update with the subselect, its delete), each in its
 * own `BEGIN IMMEDIATE` transaction as goqite runs them, prepared once, on goqite's schema alone
 * (its table, trigger and index; no qite index), through the driver's own handle. One change:
 * `queue = cast(? as text)`, which lets Bun 1.4.5 use the index as fast as the other runtimes
 * (it changes nothing elsewhere), so that the baseline is the fastest goqite's SQL can go.
 */
const goqiteRaw: Workload = {
  id: "goqite-raw",
  title: "send+receive+delete, goqite's SQL raw",
  group: "single",
  unit: "msg",
  storages: STORAGES,
  sizes: single.sizes,
  prepare(context, units): Promise<Trial> {
    const store = openStore(context.storage, context.driver, "goqite");
    const insert = prepareNative(
      store,
      "insert into goqite (queue, body, timeout, priority) values (cast(? as text), ?, ?, ?) " +
        "returning id",
    );
    const receive = prepareNative(
      store,
      `update goqite set timeout = ?, received = received + 1
where id = (
  select id from goqite
  where queue = cast(? as text) and ? >= timeout and received < ?
  order by priority desc, created
  limit 1
)
returning id, body`,
    );
    const remove = prepareNative(
      store,
      "delete from goqite where queue = cast(? as text) and id = ?",
    );
    const begin = prepareNative(store, "begin immediate");
    const commit = prepareNative(store, "commit");
    return Promise.resolve(trialOf(context, store, units, (count): Promise<void> => {
      for (let i = 0; i < count; i++) {
        begin.run();
        insert.all(QUEUE, BODY, formatTime(Date.now()), 0);
        commit.run();
        begin.run();
        const now = Date.now();
        const row =
          receive.all(formatTime(now + TIMEOUT_MS), QUEUE, formatTime(now), MAX_RECEIVE)[0];
        commit.run();
        begin.run();
        remove.run(QUEUE, row!.id as string);
        commit.run();
      }
      return Promise.resolve();
    }));
  },
};

const BATCH = 100;

/** 3. Batches of 100: sendBatch, receiveBatch(100), deleteBatch. */
const batch: Workload = {
  id: "batch",
  title: "batches of 100, Queue",
  group: "batch",
  versus: { id: "batch-raw", as: "percent" },
  unit: "msg",
  storages: STORAGES,
  sizes: [50_000, 20_000, 10_000, 200],
  prepare(context, units): Promise<Trial> {
    const store = openStore(context.storage, context.driver);
    const queue = new Queue({ db: store.db, name: QUEUE });
    const messages = Array.from({ length: BATCH }, () => ({ body: BODY }));
    return Promise.resolve(trialOf(context, store, units, async (count): Promise<void> => {
      check(count % BATCH === 0, "a part is whole batches");
      for (let i = 0; i < count; i += BATCH) {
        await queue.sendBatch(messages);
        const received = await queue.receiveBatch(BATCH);
        check(received.length === BATCH, "a whole batch was received");
        await queue.deleteBatch(received);
      }
    }));
  },
};

/**
 * The limit for batches: the statements qite runs for sendBatch, receiveBatch(100) and
 * deleteBatch (fenced, as given received messages), in the same transactions, on the driver's
 * own handle.
 */
const batchRaw: Workload = {
  id: "batch-raw",
  title: "batches of 100, raw SQL",
  group: "batch",
  unit: "msg",
  storages: STORAGES,
  sizes: batch.sizes,
  prepare(context, units): Promise<Trial> {
    const store = openStore(context.storage, context.driver);
    const sql = buildSql(MAX_RECEIVE);
    // sendBatch cuts 100 messages into multi-row inserts of 64, 16, 16 and 4 rows.
    const inserts = [64, 16, 16, 4].map((rows) =>
      [rows, prepareNative(store, insertSql(rows))] as const
    );
    const receive = prepareNative(store, sql.receive(BATCH));
    const remove = prepareNative(store, sql.deleteFenced);
    const begin = prepareNative(store, "begin immediate");
    const commit = prepareNative(store, "commit");
    return Promise.resolve(trialOf(context, store, units, (count): Promise<void> => {
      check(count % BATCH === 0, "a part is whole batches");
      for (let i = 0; i < count; i += BATCH) {
        begin.run();
        const created = formatTime(Date.now());
        for (const [rows, insert] of inserts) {
          const params: Bindable[] = [];
          for (let j = 0; j < rows; j++) {
            params.push(newId(), created, created, QUEUE, BODY, created, 0);
          }
          insert.run(...params);
        }
        commit.run();
        const now = Date.now();
        const rows = receive.all(formatTime(now + TIMEOUT_MS), QUEUE, formatTime(now));
        begin.run();
        for (const row of rows) {
          remove.run(QUEUE, row.id as string, row.received as number, row.created as string);
        }
        commit.run();
      }
      return Promise.resolve();
    }));
  },
};

/** The rows around the received ones in a large-table workload. */
type Surroundings = "none" | "other-queues" | "dead-delayed" | "lapsed";

/** Fills a large table (untimed): `units` live messages of this queue, and the surroundings. */
function fillLarge(store: Store, units: number, table: number, surroundings: Surroundings): void {
  const past = Date.now() - 3_600_000;
  const ready = { timeout: "created", received: "0" };
  const mine = `'${QUEUE}'`;
  store.db.transaction(() => {
    if (surroundings === "other-queues") {
      // goqite's index study: 100 000 messages over 10 queues, this one among them.
      const queues = `case i % 10 when 0 then ${mine} else 'other' || (i % 10) end`;
      fill(store.db, { count: table - units, queue: queues, createdAt: past, ...ready });
    } else if (surroundings === "dead-delayed") {
      const half = table / 2;
      // Dead as goqite and qite leave them: received maxReceive times, the last lease lapsed.
      const dead = { timeout: timeLiteral(Date.now() - 60_000), received: String(MAX_RECEIVE) };
      const delayed = { timeout: timeLiteral(Date.now() + 86_400_000), received: "0" };
      fill(store.db, { count: half, queue: mine, createdAt: past, ...dead });
      fill(store.db, { count: half, queue: mine, createdAt: past + half, ...delayed });
    } else if (surroundings === "lapsed") {
      // Consumers crashed: every lease has run out, and every message is a due retry.
      const lapsed = { timeout: timeLiteral(Date.now() - 60_000), received: "1" };
      fill(store.db, { count: table - units, queue: mine, createdAt: past, ...lapsed });
    }
    fill(store.db, { count: units, queue: mine, createdAt: past + table, ...ready });
  });
}

/**
 * 4. Receive + delete, one message at a time, from a queue in a table of 100 000 rows: the
 * messages spread over 10 queues, this queue's newest live messages behind dead and delayed
 * ones, or behind lapsed leases (due retries, which are received first); and, as the baseline,
 * from a table holding only the messages received.
 */
function largeTable(id: string, title: string, surroundings: Surroundings): Workload {
  return {
    id,
    title,
    group: "large",
    ...(id === "small" ? {} : { versus: { id: "small", as: "times" } }),
    unit: "msg",
    storages: STORAGES,
    sizes: [5_000, 2_000, 500, 50],
    prepare(context, units): Promise<Trial> {
      const store = openStore(context.storage, context.driver);
      fillLarge(store, units, context.smoke ? 1_000 : 100_000, surroundings);
      const queue = new Queue({ db: store.db, name: QUEUE });
      const left = remaining(store) - units;
      // Lapsed leases are visible: they are received (and deleted) before the newest messages.
      return Promise.resolve(trialOf(context, store, units, async (count): Promise<void> => {
        for (let i = 0; i < count; i++) {
          const message = await queue.receive();
          check(message !== undefined, "a live message was received");
          await queue.delete(message);
        }
      }, { left }));
    },
  };
}

/** 5. The job runner draining no-op jobs, created untimed in one transaction. */
const runner: Workload = {
  id: "runner",
  title: "job runner drain, no-op jobs",
  group: "runner",
  unit: "job",
  storages: STORAGES,
  whole: true,
  sizes: [20_000, 20_000, 20_000, 200],
  prepare(context, units): Promise<Trial> {
    const store = openStore(context.storage, context.driver);
    const queue = new Queue({ db: store.db, name: QUEUE, timeout: 30_000 });
    queue.transaction((tx) => {
      for (let i = 0; i < units; i++) createJob(tx, "noop", BODY);
    });
    return Promise.resolve(trialOf(context, store, units, async (): Promise<void> => {
      const stop = new AbortController();
      const jobs = new Runner({
        queue,
        ...(context.prefetch === undefined ? {} : { prefetch: context.prefetch }),
      });
      let done = 0;
      jobs.register("noop", (): void => {
        if (++done === units) stop.abort();
      });
      await jobs.start({ signal: stop.signal });
      check(done === units, "every job ran once");
    }));
  },
};

/** 6. Wake-up latency: another process sends, `receiveAndWait` here receives. */
const wakeup: Workload = {
  id: "wakeup",
  title: "wake-up from another process",
  group: "wakeup",
  unit: "wake-up",
  storages: ["wal-normal", "wal-full"],
  sizes: [0, 200, 200, 5],
  async prepare(context, units): Promise<Trial> {
    const store = openStore(context.storage, context.driver);
    const queue = new Queue({ db: store.db, name: QUEUE });
    const sender = await startSender(store, QUEUE);
    const decoder = new TextDecoder();
    return trialOf(context, store, units, async (count): Promise<number[]> => {
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const waiting = queue.receiveAndWait({ signal: AbortSignal.timeout(10_000) });
        sender.go();
        const message = await waiting;
        const received = performance.timeOrigin + performance.now();
        latencies.push(received - Number(decoder.decode(message.body)));
        await queue.delete(message);
      }
      return latencies;
    }, { stop: sender.close });
  },
};

/** How many receivers wait in the herd and idle workloads. */
const WAITERS = 1000;

/** Starts `WAITERS` receivers on `queue`; each deletes what it gets and counts it. */
function startWaiters(
  queue: Queue,
  signal: AbortSignal,
): { readonly got: () => number; readonly done: Promise<unknown> } {
  let got = 0;
  const done = Promise.all(
    Array.from(
      { length: WAITERS },
      () =>
        queue.receiveAndWait({ signal, interval: 60_000 }).then(async (message) => {
          got++;
          await queue.delete(message);
        }, () => {}),
    ),
  );
  return { got: () => got, done };
}

/** Resolves once `check` holds, looking after each turn of the event loop. */
async function settled(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * 7. A herd: 1 000 receivers wait on one queue, then messages are sent one at a time, each
 * waited for until a receiver has it: the event loop's time per send (with everything it
 * wakes), until every receiver has one.
 */
const herd: Workload = {
  id: "herd",
  title: "send with 1 000 receivers waiting",
  group: "herd",
  unit: "send",
  storages: ["memory", "wal-normal"],
  whole: true,
  sizes: [WAITERS, WAITERS, WAITERS, WAITERS],
  async prepare(context, units): Promise<Trial> {
    const store = openStore(context.storage, context.driver);
    const queue = new Queue({ db: store.db, name: QUEUE });
    const stop = new AbortController();
    const waiters = startWaiters(queue, stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    return trialOf(context, store, units, async (count): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const before = waiters.got();
        await queue.send({ body: BODY });
        await settled(() => waiters.got() > before);
      }
      await waiters.done;
    }, {
      stop: () => {
        stop.abort();
        return waiters.done.then(() => {});
      },
    });
  },
};

/**
 * 8. Idle: 1 000 receivers wait on an empty queue of a WAL file for 3 s; the share of one core
 * the process used meanwhile (its watcher of the file, timers, polls).
 */
const idle: Workload = {
  id: "idle",
  title: "1 000 receivers waiting, idle",
  group: "idle",
  unit: "cpu",
  storages: ["wal-normal"],
  whole: true,
  sizes: [1, 1, 1, 1],
  async prepare(context, units): Promise<Trial> {
    const store = openStore(context.storage, context.driver);
    const queue = new Queue({ db: store.db, name: QUEUE });
    const stop = new AbortController();
    const waiters = startWaiters(queue, stop.signal);
    (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const seconds = context.smoke ? 0.2 : 3;
    return trialOf(context, store, units, async (): Promise<number[]> => {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      const used = process.cpuUsage(cpu);
      const wall = (performance.now() - started) * 1000;
      return [100 * (used.user + used.system) / wall];
    }, {
      stop: () => {
        stop.abort();
        return waiters.done.then(() => {});
      },
    });
  },
};

/** Every workload, in the order the tables show them. */
export const WORKLOADS: readonly Workload[] = [
  goqiteRaw,
  raw,
  single,
  batchRaw,
  batch,
  largeTable("small", "receive+delete, small table", "none"),
  largeTable("other-queues", "… 100k rows over 10 queues", "other-queues"),
  largeTable("dead-delayed", "… 100k dead/delayed rows", "dead-delayed"),
  largeTable("lapsed", "… 100k lapsed leases", "lapsed"),
  runner,
  wakeup,
  herd,
  idle,
  httpWorkload,
  ...PROCESS_WORKLOADS,
];
