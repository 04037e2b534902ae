/**
 * Shared pieces of the reliability children: arguments, records, the stop file, sleeping.
 *
 * @module
 */

import { appendFileSync, existsSync } from "node:fs";
import { open, Queue, type QueueLike, type Synchronous } from "../../mod.ts";
import { PostgresQueue } from "../../postgres/mod.ts";

/** A queue a child opened, on SQLite or PostgreSQL, and how to close it with its database. */
export interface OpenedQueue {
  readonly queue: QueueLike;
  close(): Promise<void>;
}

/**
 * Opens the queue the arguments name: `--db` a SQLite file, or a `postgres://` URL with
 * `--schema` and `--client` (`Bun.sql` or `postgres.js`); the client's connections carry the
 * schema and the child's `--id` as their application name (`qite-rel-{schema}-{id}`), so the
 * harness can find and end them, and only them.
 */
export async function openQueue(
  a: Record<string, string>,
  options: { timeout?: number; maxReceive?: number; sync?: string } = {},
): Promise<OpenedQueue> {
  const { sync, ...settings } = options;
  if (!/^postgres(ql)?:\/\//.test(a.db!)) {
    const db = open(a.db!, { synchronous: (sync ?? "NORMAL") as Synchronous });
    const queue = new Queue({ db, name: a.name!, ...settings });
    return {
      queue,
      close: () => {
        db.close();
        return Promise.resolve();
      },
    };
  }
  const application = `qite-rel-${a.schema}-${a.id}`;
  let sql: object;
  let end: () => Promise<void>;
  if (a.client === "Bun.sql") {
    const Bun = (globalThis as unknown as {
      Bun: { SQL: new (url: string, options: object) => { close(): Promise<void> } };
    }).Bun;
    const url = `${a.db}${a.db!.includes("?") ? "&" : "?"}options=${
      encodeURIComponent(`-c application_name=${application}`)
    }`;
    const client = new Bun.SQL(url, { max: 2 });
    sql = client;
    end = () => client.close();
  } else {
    const postgres = (await import("postgres")).default;
    const client = postgres(a.db!, {
      max: 2,
      // A connection attempt that hangs (the server busy ending connections) fails in 5 s, and
      // qite retries it, rather than after postgres.js's 30 s.
      connect_timeout: 5,
      onnotice: () => {},
      // postgres.js 3.4 leaves a rejection unhandled (which ends the process) when the server
      // ends a connection while it fetches array types right after connecting; qite needs none.
      fetch_types: false,
      connection: { application_name: application },
    });
    sql = client;
    end = () => client.end({ timeout: 5 });
  }
  const queue = new PostgresQueue({
    sql,
    schema: a.schema!,
    name: a.name!,
    ...settings,
    ...(a["retry-timeout"] === undefined ? {} : { retryTimeout: Number(a["retry-timeout"]) }),
  });
  return {
    queue,
    close: async () => {
      await queue.close();
      // Once, a Node consumer's postgres.js end() never finished after the server had ended its
      // connections, and the scenario waited for that child for ever: the end is bounded, and
      // the children exit once closed (see exit()).
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        end(),
        new Promise<void>((resolve) => timer = setTimeout(resolve, 10_000)),
      ]);
      clearTimeout(timer);
    },
  };
}

/** Ends this child with `code`, whatever handles a client left open. */
export function exit(code = 0): never {
  return (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(code);
}

/** Reads `--key value` arguments. */
export function args(): Record<string, string> {
  const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i]!.replace(/^--/, "")] = argv[i + 1]!;
  return out;
}

/** Appends one JSON record per line; written at once, so a kill -9 loses nothing written. */
export function recorder(path: string): (record: Record<string, unknown>) => void {
  return (record) => appendFileSync(path, JSON.stringify(record) + "\n");
}

/** An AbortSignal that fires when `path` exists (the harness creates it to stop children). */
export function stopFile(path: string): AbortSignal {
  const controller = new AbortController();
  const timer = setInterval(() => {
    if (existsSync(path)) {
      clearInterval(timer);
      controller.abort(new Error("stop file"));
    }
  }, 20);
  return controller.signal;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The runtime this child runs on. */
export function runtime(): string {
  const versions = (globalThis as unknown as { process: { versions: Record<string, string> } })
    .process.versions;
  return versions.bun ? "bun" : versions.deno ? "deno" : "node";
}
