/**
 * A thin, portable SQLite connection over `node:sqlite`, `bun:sqlite` or `@db/sqlite`.
 *
 * @module
 */

import { QueueError } from "../errors.ts";
import { toQueueError } from "../runtime/_errors.ts";
import { bunAdapter } from "../runtime/bun_sqlite.ts";
import { dbSqliteAdapter } from "../runtime/db_sqlite.ts";
import { detectRuntime, loadBunSqlite, loadNodeSqlite } from "../runtime/detect.ts";
import { nodeAdapter } from "../runtime/node_sqlite.ts";
import type {
  Bindable,
  Driver,
  DriverAdapter,
  DriverName,
  DriverStatement,
  Row,
} from "../runtime/types.ts";
import { checkInteger, checkOneOf } from "../_validate.ts";
import { pause } from "../_time.ts";

export type { Bindable, DriverName, Row };

/** The oldest SQLite qite runs on: 3.37 brought `strict` tables (and 3.35 `returning`). */
const MIN_SQLITE_VERSION = [3, 37, 0] as const;

/**
 * An open connection from `node:sqlite` (`DatabaseSync`), `bun:sqlite` (`Database`) or
 * `@db/sqlite` (`Database`, opened with `int64: true`), recognised by its shape.
 */
export type SqliteHandle = object;

/** The `synchronous` settings SQLite offers. */
export type Synchronous = "OFF" | "NORMAL" | "FULL" | "EXTRA";

/** Options for {@linkcode open}. */
export interface OpenOptions {
  /**
   * Which built-in driver to use. By default the fastest one this runtime has: `bun:sqlite` on
   * Bun, `node:sqlite` on Deno and Node.
   */
  driver?: "node:sqlite" | "bun:sqlite";
  /**
   * How long, in milliseconds, to wait for another connection's lock before failing with
   * `BUSY`; see {@linkcode Database.busyTimeout} for how qite waits without blocking.
   *
   * @default {5000}
   */
  busyTimeout?: number;
  /**
   * SQLite's `synchronous` setting. With WAL, `NORMAL` never corrupts the file and loses no
   * committed write when a process crashes, but may lose the last commits on power loss;
   * `FULL` survives power loss too, at the cost of an fsync per commit.
   *
   * @default {"NORMAL"}
   */
  synchronous?: Synchronous;
  /**
   * Opens the file read-only.
   *
   * @default {false}
   */
  readOnly?: boolean;
}

/** A prepared statement of a {@linkcode Database}. Parameters are positional (`?`). */
export interface Statement {
  /** Runs the statement and returns how many rows it changed. */
  run(...params: Bindable[]): number;
  /** Returns the first row, or `undefined` when there is none. */
  get(...params: Bindable[]): Row | undefined;
  /** Returns every row. */
  all(...params: Bindable[]): Row[];
}

/** How {@linkcode DatabaseInternals.write} runs its work. */
export type WriteMode =
  /** One statement in autocommit mode (it takes and releases the write lock itself). */
  | "statement"
  /** A `BEGIN IMMEDIATE` transaction: the work runs while the write lock is held. */
  | "transaction"
  /** Reads only: retried if the database is busy, and run inside any open transaction. */
  | "read";

/** What the rest of qite reaches inside a {@linkcode Database}; not part of the public API. */
export interface DatabaseInternals {
  /** The prepared statement for `sql`, from this connection's cache. Errors are not mapped. */
  statement(sql: string): DriverStatement;
  /** Throws `CLOSED` if the connection is closed. */
  assertOpen(action: string): void;
  /**
   * Runs `work` without blocking the event loop while another connection holds the write lock:
   * each attempt fails at once if the lock is taken, and the next one comes after a jittered
   * backoff, until the busy timeout has passed (then `BUSY`). In `"transaction"` mode the work
   * runs inside `BEGIN IMMEDIATE`, so it reads the clock while the lock is held. It never joins
   * a transaction someone else left open on the connection: it waits for it to end. When
   * `signal` aborts while it waits, it rejects with the signal's reason.
   */
  write<T>(action: string, mode: WriteMode, work: () => T, signal?: AbortSignal): Promise<T>;
  /** This connection's file, for wake-ups: its path, or `""` in memory. */
  readonly file: string;
}

let internalsOf: (db: Database) => DatabaseInternals;
/** The first retry of a busy write comes after about this many ms; it doubles up to the cap. */
const BACKOFF_BASE_MS = 1;
const BACKOFF_CAP_MS = 32;
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
let openDriver: (driver: Driver, options: Required<OpenOptions>) => Database;
const wrapped = new WeakMap<object, Database>();
const adapters: readonly DriverAdapter[] = [bunAdapter, nodeAdapter, dbSqliteAdapter];

/**
 * A SQLite connection, the same on every driver: cached prepared statements, `BEGIN IMMEDIATE`
 * transactions that nest as savepoints, `get()` that returns `undefined` for no row, and driver
 * errors mapped onto {@linkcode QueueError}. Get one from {@linkcode open}, or wrap a handle you
 * opened yourself with {@linkcode Database.from}.
 *
 * @example Opening a database and running SQL
 * ```ts
 * import { open } from "@qite/qite";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * db.exec("create table notes (id integer primary key, text text not null)");
 * db.prepare("insert into notes (text) values (?)").run("hello");
 * assert.equal(db.prepare("select text from notes").get()?.text, "hello");
 * ```
 */
export class Database {
  #driver: Driver;
  #statements = new Map<string, DriverStatement>();
  #public = new Map<string, Statement>();
  #closed = false;
  #savepoints = 0;
  #file: string;
  #busyTimeout = DEFAULT_BUSY_TIMEOUT_MS;

  static {
    internalsOf = (db: Database): DatabaseInternals => ({
      statement: (sql: string): DriverStatement => db.#statement(sql),
      assertOpen: (action: string): void => db.#assertOpen(action),
      write: <T>(
        action: string,
        mode: WriteMode,
        work: () => T,
        signal?: AbortSignal,
      ): Promise<T> => db.#write(action, mode, work, signal),
      file: db.#file,
    });
  }

  private constructor(driver: Driver) {
    this.#driver = driver;
    this.#file = mainFile(driver);
  }

  /**
   * Wraps a connection you opened yourself, recognised by its shape: a `node:sqlite`
   * `DatabaseSync`, a `bun:sqlite` `Database`, or a `@db/sqlite` `Database` opened with
   * `int64: true`. Wrapping the same handle twice gives the same `Database`. The handle's busy
   * timeout becomes the `Database`'s {@linkcode Database.busyTimeout} (5000 ms if it was 0, every
   * driver's default), and the handle's own is set to 0: qite waits for locks itself (see
   * {@linkcode Database.busyTimeout}), so statements you run on the handle directly fail with
   * `SQLITE_BUSY` at once instead of waiting; run them through the `Database` to wait.
   *
   * Close the `Database`, not the handle: it owns the cached statements, and bun:sqlite keeps a
   * connection alive (and its statements working) until they are finalized.
   *
   * @param handle The open connection.
   * @returns The wrapper; closing it closes the handle.
   * @throws {TypeError} If `handle` is not a connection qite recognises, or is a `@db/sqlite`
   * connection opened without `int64: true` (it would cut integers to 32 bits).
   *
   * @example Wrapping a node:sqlite connection
   * ```ts
   * import { Database } from "@qite/qite";
   * import { DatabaseSync } from "node:sqlite";
   * import assert from "node:assert/strict";
   *
   * const handle = new DatabaseSync(":memory:");
   * const db = Database.from(handle);
   * assert.equal(db.driver, "node:sqlite");
   * assert.equal(Database.from(handle), db);
   * db.close();
   * ```
   */
  static from(handle: SqliteHandle): Database {
    if (handle instanceof Database) return handle;
    if (typeof handle !== "object" || handle === null) {
      throw new TypeError(
        `Cannot use database as it must be a SQLite connection object: current value is ${
          String(handle)
        }`,
      );
    }
    const existing = wrapped.get(handle);
    if (existing) return existing;
    const adapter = adapters.find((candidate) => candidate.recognises(handle));
    if (!adapter) {
      throw new TypeError(
        "Cannot use database as it is not a node:sqlite DatabaseSync, a bun:sqlite Database or a " +
          "@db/sqlite Database",
      );
    }
    const db = new Database(adapter.wrap(handle));
    db.#checkIntegers();
    const busyTimeout = Number(db.#pragma("busy_timeout"));
    db.#busyTimeout = busyTimeout > 0 ? busyTimeout : DEFAULT_BUSY_TIMEOUT_MS;
    db.#setBusyHandler(0);
    wrapped.set(handle, db);
    return db;
  }

  /** The driver underneath: `"node:sqlite"`, `"bun:sqlite"` or `"@db/sqlite"`. */
  get driver(): DriverName {
    return this.#driver.name;
  }

  /** The driver's own connection object, for anything qite does not wrap. */
  get native(): SqliteHandle {
    return this.#driver.native;
  }

  /**
   * How long, in milliseconds, an operation waits for another connection's write lock before
   * failing with `BUSY`.
   *
   * qite's asynchronous operations (a `Queue`'s) never block the event loop while they wait:
   * each attempt fails at once when the lock is taken, and the next comes after a short,
   * jittered, growing pause. The synchronous calls of this class (`exec`, `prepare`'s
   * statements, `transaction`) cannot do that: while they wait for the lock, the whole process
   * waits, as with any synchronous SQLite driver.
   *
   * @default {5000}
   */
  get busyTimeout(): number {
    return this.#busyTimeout;
  }

  set busyTimeout(ms: number) {
    checkInteger("set busy timeout", "busyTimeout", ms, 0, 2 ** 31 - 1);
    this.#busyTimeout = ms;
  }

  /** Whether the connection is inside an open transaction. */
  get inTransaction(): boolean {
    return !this.#closed && this.#driver.inTransaction();
  }

  /** Whether {@linkcode Database.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The version of the SQLite library behind the driver, e.g. `"3.53.4"`. */
  get sqliteVersion(): string {
    return String(
      this.#run(
        "read SQLite version",
        () => this.#statement("select sqlite_version() as v").get()?.v,
      ),
    );
  }

  /**
   * Runs one or more SQL statements that take no parameters.
   *
   * @param sql The SQL text.
   * @throws {QueueError} If SQLite fails.
   *
   * @example Creating a table
   * ```ts
   * import { open } from "@qite/qite";
   *
   * using db = open(":memory:");
   * db.exec("create table a (x integer); create table b (y integer)");
   * ```
   */
  exec(sql: string): void {
    this.#run("run SQL", () => this.#blocking(() => this.#driver.exec(sql)));
  }

  /**
   * Prepares a statement, or returns the one already prepared for the same text.
   *
   * @param sql The SQL text, with positional `?` parameters.
   * @returns The statement. Rows from `node:sqlite` have a null prototype.
   * @throws {QueueError} If SQLite cannot prepare it.
   *
   * @example Inserting and reading rows
   * ```ts
   * import { open } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * db.exec("create table t (x integer)");
   * const insert = db.prepare("insert into t (x) values (?)");
   * assert.equal(insert.run(1), 1);
   * assert.equal(db.prepare("insert into t (x) values (?)"), insert);
   * assert.deepEqual(db.prepare("select x from t").all().map((row) => row.x), [1]);
   * ```
   */
  prepare(sql: string): Statement {
    let wrapper = this.#public.get(sql);
    if (wrapper === undefined) {
      const statement = this.#run("prepare statement", () => this.#statement(sql));
      const action = "run statement";
      wrapper = {
        run: (...params: Bindable[]): number =>
          this.#run(action, () => this.#waiting(() => statement.run(...params))),
        get: (...params: Bindable[]): Row | undefined =>
          this.#run(action, () => this.#waiting(() => statement.get(...params))),
        all: (...params: Bindable[]): Row[] =>
          this.#run(action, () => this.#waiting(() => statement.all(...params))),
      };
      this.#public.set(sql, wrapper);
    } else this.#assertOpen("prepare statement");
    return wrapper;
  }

  /**
   * Runs `fn` inside a transaction and returns its result. The transaction is
   * `BEGIN IMMEDIATE`, so it takes the write lock up front and never fails half-way with a stale
   * snapshot. Inside a transaction already open on this connection (yours or qite's), it becomes
   * a savepoint, so it commits or rolls back with the outer one. A throw rolls back and rethrows.
   *
   * `fn` must be synchronous: SQLite transactions belong to the connection, and an `await`
   * inside one would let unrelated work join it. So it blocks: while another connection holds
   * the write lock, `BEGIN IMMEDIATE` waits for it with SQLite's busy handler (up to
   * {@linkcode Database.busyTimeout}), and the whole process waits with it.
   *
   * @typeParam T What `fn` returns.
   * @param fn The work to do atomically.
   * @returns What `fn` returned.
   * @throws {TypeError} If `fn` returns a promise (the transaction is rolled back).
   * @throws {QueueError} If SQLite cannot begin or commit.
   *
   * @example A rolled-back transaction leaves nothing behind
   * ```ts
   * import { open } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * db.exec("create table t (x integer)");
   * assert.throws(() =>
   *   db.transaction(() => {
   *     db.prepare("insert into t (x) values (?)").run(1);
   *     throw new Error("changed my mind");
   *   })
   * );
   * assert.equal(db.prepare("select count(*) as n from t").get()?.n, 0);
   * ```
   */
  transaction<T>(fn: () => T): T {
    this.#assertOpen("begin transaction");
    const nested = this.#driver.inTransaction();
    const name = nested ? `qite_sp_${++this.#savepoints}` : "";
    this.#run(
      "begin transaction",
      () =>
        this.#waiting(() =>
          this.#statement(nested ? `savepoint ${name}` : "begin immediate").run()
        ),
    );
    try {
      const result = fn();
      if (isThenable(result)) {
        // Its rejection (its code after an await, where the transaction has ended) is part of
        // the mistake this TypeError reports: it must not surface as an unhandled rejection.
        Promise.resolve(result).catch(() => {});
        throw new TypeError(
          "Cannot run transaction as the function returned a promise: it must be synchronous",
        );
      }
      this.#control(nested ? `release ${name}` : "commit", "commit transaction");
      return result;
    } catch (error) {
      if (!this.#closed && this.#driver.inTransaction()) {
        if (nested) {
          this.#control(`rollback to ${name}`, "roll back transaction");
          this.#control(`release ${name}`, "roll back transaction");
        } else this.#control("rollback", "roll back transaction");
      }
      throw error;
    } finally {
      if (nested) this.#savepoints--;
    }
  }

  /** Closes the connection. A second call does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#begin = this.#commit = undefined;
    this.#statements.clear();
    this.#public.clear();
    this.#driver.close();
    for (const listener of closeListeners) listener(this);
  }

  /** Closes the connection, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Sets the connection's own busy handler: 0 fails at once, anything else blocks up to it. */
  #setBusyHandler(ms: number): void {
    this.#statement(`pragma busy_timeout = ${ms}`).get();
  }

  /** Runs `fn` with SQLite's blocking busy handler set to the busy timeout. */
  #blocking<T>(fn: () => T): T {
    this.#assertOpen("run SQL");
    this.#setBusyHandler(this.#busyTimeout);
    try {
      return fn();
    } finally {
      if (!this.#closed) this.#setBusyHandler(0);
    }
  }

  /**
   * Runs one statement; if it finds the database locked (and no transaction is open, so that
   * running it again is safe), runs it again with the blocking busy handler.
   */
  #waiting<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (this.#driver.inTransaction() || !isBusy(error)) throw error;
      return this.#blocking(fn);
    }
  }

  #write<T>(
    action: string,
    mode: WriteMode,
    work: () => T,
    signal?: AbortSignal,
  ): Promise<T> {
    // The first attempt runs at once, with no await: uncontended, that is all there is.
    let busy: unknown;
    try {
      busy = this.#attempt(action, mode, work);
      if (busy === undefined) return Promise.resolve(this.#result as T);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#retry(action, mode, work, busy, signal);
  }

  #begin: DriverStatement | undefined;
  #commit: DriverStatement | undefined;

  /** What the last successful attempt returned (to spare a wrapper object per attempt). */
  #result: unknown;

  /**
   * One attempt: `undefined` when it ran (its result is in `#result`), or the error to report
   * if the database stays busy. Anything else is thrown.
   */
  #attempt<T>(action: string, mode: WriteMode, work: () => T): unknown {
    this.#assertOpen(action);
    try {
      if (mode !== "read" && this.#driver.inTransaction()) {
        return new QueueError(
          "BUSY",
          `Cannot ${action} as the connection is inside a transaction that qite did not ` +
            "open (qite's asynchronous operations never join one; inside " +
            "Queue.transaction(), use the synchronous operations it hands you)",
        );
      }
      this.#result = mode === "transaction" ? this.#immediate(work) : work();
      return undefined;
    } catch (error) {
      if (!isBusy(error)) throw toQueueError(error, action);
      return toQueueError(error, action);
    }
  }

  /** Tries again after jittered, growing pauses until the busy timeout has passed. */
  async #retry<T>(
    action: string,
    mode: WriteMode,
    work: () => T,
    busy: unknown,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const deadline = performance.now() + this.#busyTimeout;
    for (let attempt = 0;; attempt++) {
      const wait = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt) *
        (0.5 + Math.random() / 2);
      if (performance.now() + wait > deadline) throw busy;
      await pause(wait, signal);
      busy = this.#attempt(action, mode, work);
      if (busy === undefined) return this.#result as T;
    }
  }

  /** Runs `work` in `BEGIN IMMEDIATE` … `COMMIT`, rolling back if it throws. */
  #immediate<T>(work: () => T): T {
    (this.#begin ??= this.#statement("begin immediate")).run();
    try {
      const result = work();
      (this.#commit ??= this.#statement("commit")).run();
      return result;
    } catch (error) {
      if (!this.#closed && this.#driver.inTransaction()) {
        try {
          this.#statement("rollback").run();
        } catch {
          // The connection rolled back on its own (or is gone); the first error matters.
        }
      }
      throw error;
    }
  }

  #statement(sql: string): DriverStatement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      this.#assertOpen("prepare statement");
      statement = this.#driver.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #assertOpen(action: string): void {
    if (this.#closed) {
      throw new QueueError("CLOSED", `Cannot ${action} as the database is closed`);
    }
  }

  /** Runs a transaction-control statement through a prepared statement (Deno's exec loses codes). */
  #control(sql: string, action: string): void {
    this.#run(action, () => this.#statement(sql).run());
  }

  #run<T>(action: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw toQueueError(error, action);
    }
  }

  #pragma(name: string): unknown {
    const row = this.#run(`read ${name}`, () => this.#driver.prepare(`pragma ${name}`).get());
    return row === undefined ? undefined : Object.values(row)[0];
  }

  /** Refuses a driver that cuts integers to 32 bits (@db/sqlite without `int64: true`). */
  #checkIntegers(): void {
    const big = 2 ** 40 + 5;
    const value = this.#run(
      "check integer width",
      () => this.#driver.prepare(`select ${big} as v`).get()?.v,
    );
    if (Number(value) !== big) {
      throw new TypeError(
        `Cannot use database as it cuts integers to 32 bits (${big} read back as ${
          String(value)
        }): open @db/sqlite with { int64: true }`,
      );
    }
  }

  /** Applies qite's connection settings; used by {@linkcode open}. */
  static #configure(db: Database, options: Required<OpenOptions>): void {
    db.#busyTimeout = options.busyTimeout;
    db.#setBusyHandler(0);
    if (!options.readOnly) {
      // `:memory:` answers "memory" and stays so; any file becomes WAL.
      db.#pragma("journal_mode = wal");
    }
    db.exec(`pragma synchronous = ${options.synchronous}`);
    db.exec("pragma foreign_keys = on");
    const version = db.sqliteVersion;
    if (compareVersions(version, MIN_SQLITE_VERSION) < 0) {
      throw new QueueError(
        "UNSUPPORTED",
        `Cannot open database as SQLite ${version} is older than ${MIN_SQLITE_VERSION.join(".")}`,
      );
    }
  }

  static {
    openDriver = (driver: Driver, options: Required<OpenOptions>): Database => {
      const db = new Database(driver);
      try {
        Database.#configure(db, options);
      } catch (error) {
        db.close();
        throw error;
      }
      wrapped.set(driver.native, db);
      return db;
    };
  }
}

/**
 * Opens (and creates, unless read-only) a SQLite database file with the fastest built-in driver
 * this runtime has: `bun:sqlite` on Bun, `node:sqlite` on Deno and Node ≥ 22.13. It turns on WAL
 * (for files), sets the busy timeout, `synchronous` and foreign keys.
 *
 * @param path The file's path, or `":memory:"`.
 * @param options The driver and the connection settings.
 * @returns The open database.
 * @throws {TypeError} If `path` is not a non-empty string, or is a `file:` URI.
 * @throws {RangeError} If an option is out of range.
 * @throws {QueueError} If the file cannot be opened (`CANT_OPEN`), is not a database
 * (`NOT_A_DATABASE`), or the runtime has no built-in SQLite (`UNSUPPORTED`).
 *
 * @example Opening a file database
 * ```ts
 * import { open, setup, Queue } from "@qite/qite";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".db" });
 * using db = open(path, { synchronous: "FULL" });
 * setup(db);
 * const queue = new Queue({ db, name: "jobs" });
 * await queue.send({ body: "hello" });
 * assert.equal((await queue.receive())?.body.length, 5);
 * ```
 */
export function open(path: string, options: OpenOptions = {}): Database {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `Cannot open database as 'path' must be a non-empty string: current value is ${
        JSON.stringify(path) ?? String(path)
      }`,
    );
  }
  if (/^file:/i.test(path)) {
    // node:sqlite reads it as a URI, bun:sqlite as a file name or not at all: one meaning on
    // every runtime is none.
    throw new TypeError(
      `Cannot open database as 'path' must be a file path or ":memory:", not a URI: current ` +
        `value is ${JSON.stringify(path)}`,
    );
  }
  const settings: Required<OpenOptions> = {
    driver: options.driver ?? (loadBunSqlite() ? "bun:sqlite" : "node:sqlite"),
    busyTimeout: options.busyTimeout ?? 5000,
    synchronous: options.synchronous ?? "NORMAL",
    readOnly: options.readOnly ?? false,
  };
  checkOneOf("open database", "driver", settings.driver, ["node:sqlite", "bun:sqlite"]);
  checkInteger("open database", "busyTimeout", settings.busyTimeout, 0);
  checkOneOf("open database", "synchronous", settings.synchronous, [
    "OFF",
    "NORMAL",
    "FULL",
    "EXTRA",
  ]);
  let native: object;
  try {
    native = settings.driver === "bun:sqlite"
      ? openBun(path, settings.readOnly)
      : openNode(path, settings.readOnly);
  } catch (error) {
    throw toQueueError(error, `open database ${JSON.stringify(path)}`);
  }
  const adapter = settings.driver === "bun:sqlite" ? bunAdapter : nodeAdapter;
  return openDriver(adapter.wrap(native), settings);
}

function openNode(path: string, readOnly: boolean): object {
  const mod = loadNodeSqlite();
  if (!mod) {
    throw new QueueError(
      "UNSUPPORTED",
      `Cannot open database as ${detectRuntime()} has no node:sqlite: use Node ≥ 22.13, ` +
        "Deno ≥ 2.2 or Bun ≥ 1.4, or pass an open @db/sqlite Database",
    );
  }
  return new mod.DatabaseSync(path, { readOnly });
}

function openBun(path: string, readOnly: boolean): object {
  const mod = loadBunSqlite();
  if (!mod) {
    throw new QueueError(
      "UNSUPPORTED",
      `Cannot open database with bun:sqlite as this runtime is ${detectRuntime()}, not Bun`,
    );
  }
  return new mod.Database(path, readOnly ? { readonly: true } : { create: true, readwrite: true });
}

/** The absolute path of the main database file, or `""` for an in-memory or temporary one. */
function mainFile(driver: Driver): string {
  try {
    const rows = driver.prepare("pragma database_list").all();
    const main = rows.find((row) => row.name === "main");
    return typeof main?.file === "string" ? main.file : "";
  } catch {
    return "";
  }
}

function compareVersions(version: string, minimum: readonly number[]): number {
  const parts = version.split(".").map(Number);
  for (let i = 0; i < minimum.length; i++) {
    const difference = (parts[i] ?? 0) - (minimum[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function isThenable(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** Whether a driver error says the database is locked by another connection. */
function isBusy(error: unknown): boolean {
  const mapped = toQueueError(error, "");
  return mapped instanceof QueueError && mapped.code === "BUSY";
}

const closeListeners = new Set<(db: Database) => void>();

/**
 * Calls `listener` whenever a {@linkcode Database} closes; for qite's own modules (wake-ups).
 *
 * @param listener Called with the database, after its connection closed.
 */
export function onDatabaseClose(listener: (db: Database) => void): void {
  closeListeners.add(listener);
}

/**
 * Reaches inside a {@linkcode Database}; for qite's own modules only.
 *
 * @param db The database.
 * @returns Its internals.
 */
export function internals(db: Database): DatabaseInternals {
  return internalsOf(db);
}
