/**
 * What the operator's commands act on: a SQLite file, a PostgreSQL database (`postgres://…`) or
 * a running qite server (`http://…`), behind one shape: list the queues, open one by name.
 *
 * The commands never create a database or a table (`serve` does): a SQLite file that does not
 * exist is refused rather than made.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { QueueError } from "../src/errors.ts";
import type { QueueLike } from "../src/queue_like.ts";
import { open } from "../src/sqlite/database.ts";
import { listQueues } from "../src/sqlite/list_queues.ts";
import { Queue } from "../src/sqlite/queue.ts";
import { listQueues as listPostgresQueues } from "../src/postgres/list_queues.ts";
import { PostgresQueue } from "../src/postgres/queue.ts";
import type { PostgresClient } from "../src/postgres/_client.ts";
import { isPostgresUrl, openPostgres } from "../src/runtime/postgres_client.ts";
import { createClient } from "../http/client.ts";
import { UsageError } from "./args.ts";

/** Where the commands act. */
export interface TargetOptions {
  /** A SQLite file's path, a `postgres://` URL or a server's `http://` or `https://` URL. */
  readonly db: string;
  /** The PostgreSQL schema of the `goqite` table. */
  readonly schema?: string | undefined;
  /** A bearer token for a server. */
  readonly token?: string | undefined;
  /** Every queue's visibility timeout, in ms (SQLite and PostgreSQL; a server has its own). */
  readonly timeout?: number | undefined;
  /** Every queue's maximum receive count (SQLite and PostgreSQL; a server has its own). */
  readonly maxReceive?: number | undefined;
}

/** An opened target. */
export interface Target {
  /** What it is, for messages: `SQLite file qite.db`, `PostgreSQL`, `the server at …`. */
  readonly description: string;
  /** The names of the queues that hold messages, sorted. */
  list(): Promise<string[]>;
  /** The queue of that name (closed with the target). */
  queue(name: string): QueueLike;
  /** Closes the queues and the connection. */
  close(): Promise<void>;
}

/** Whether `value` is a server's URL. */
export function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/** The commands that change nothing. */
const LOOKING = new Set(["stats", "peek", "dead"]);

/**
 * Opens the target `options.db` names.
 *
 * @throws {UsageError} If an option does not fit the kind of target.
 * @throws {QueueError} If the database cannot be opened.
 */
export async function openTarget(command: string, options: TargetOptions): Promise<Target> {
  const { db, schema } = options;
  if (schema !== undefined && !isPostgresUrl(db)) {
    throw new UsageError("--schema is for a postgres:// database only", command);
  }
  if (isHttpUrl(db)) return serverTarget(command, options);
  const queues: QueueLike[] = [];
  const settings = {
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.maxReceive === undefined ? {} : { maxReceive: options.maxReceive }),
  };
  if (isPostgresUrl(db)) {
    const opened = await openPostgres(db);
    const sql = opened.sql as PostgresClient;
    const where = schema === undefined ? {} : { schema };
    return {
      description: `PostgreSQL at ${withoutPassword(db)}`,
      list: () => listPostgresQueues(sql, where),
      queue: (name) => remember(queues, new PostgresQueue({ sql, name, ...where, ...settings })),
      close: async () => {
        await Promise.all(queues.map((queue) => queue.close()));
        await opened.end();
      },
    };
  }
  if (db !== ":memory:" && !existsSync(db)) {
    throw new QueueError(
      "CANT_OPEN",
      `There is no SQLite file at ${db}: give --db PATH|URL (or QITE_DB); serve creates a file`,
    );
  }
  let database: ReturnType<typeof open>;
  try {
    // The commands that only look open the file read-only: they change nothing in it, not even
    // its journal mode (open() turns a goqite file's rollback journal into WAL).
    database = open(db, { readOnly: LOOKING.has(command) });
  } catch (error) {
    const code = error instanceof QueueError ? error.code : "CANT_OPEN";
    throw new QueueError(code, `Cannot open SQLite file ${db}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    description: `SQLite file ${db}`,
    list: () => listQueues(database),
    queue: (name) => remember(queues, new Queue({ db: database, name, ...settings })),
    close: async () => {
      await Promise.all(queues.map((queue) => queue.close()));
      database.close();
    },
  };
}

function serverTarget(command: string, options: TargetOptions): Target {
  if (options.timeout !== undefined || options.maxReceive !== undefined) {
    throw new UsageError(
      "--timeout and --max-receive are the server's own: they apply to a database only",
      command,
    );
  }
  const base = options.db.replace(/\/+$/, "");
  const headers: Record<string, string> = options.token === undefined || options.token === ""
    ? {}
    : { authorization: `Bearer ${options.token}` };
  const queues: QueueLike[] = [];
  return {
    description: `the server at ${base}`,
    list: async () => {
      let response: Response;
      try {
        response = await fetch(`${base}/queues`, { headers });
      } catch (error) {
        throw new QueueError("NETWORK", `Cannot reach ${base}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const text = await response.text();
      if (!response.ok) {
        throw new QueueError("HTTP", `The server answered ${response.status}: ${text.trim()}`);
      }
      const names = parseQueues(text);
      if (names === undefined) {
        throw new QueueError("HTTP", `The answer of ${base}/queues is not a qite server's`);
      }
      return names;
    },
    queue: (name) =>
      remember(queues, createClient(`${base}/queues/${encodeURIComponent(name)}`, { headers })),
    close: async () => {
      await Promise.all(queues.map((queue) => queue.close()));
    },
  };
}

/** The names in a `GET /queues` answer, or `undefined` when it is not one. */
function parseQueues(text: string): string[] | undefined {
  try {
    const { Queues } = JSON.parse(text) as { Queues?: unknown };
    if (Array.isArray(Queues) && Queues.every((name) => typeof name === "string")) return Queues;
  } catch {
    // Not JSON.
  }
  return undefined;
}

function remember(queues: QueueLike[], queue: QueueLike): QueueLike {
  queues.push(queue);
  return queue;
}

/** The URL without its password. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.href;
  } catch {
    return "the PostgreSQL database";
  }
}
