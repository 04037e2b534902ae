/**
 * A stand-in for `@db/sqlite` (jsr:@db/sqlite 0.13, Deno FFI), for testing qite's adapter.
 *
 * The real package cannot be loaded here: JSR is unreachable from this machine and from CI, and
 * the package downloads a prebuilt SQLite library on first use. So this class reproduces, on top
 * of node:sqlite, the documented differences that qite's adapter must handle:
 *
 * - `new Database(path, { int64 })`: with `int64: false` (the default) integers are read back
 *   cut to 32 bits, as @db/sqlite's `sqlite3_column_int` path does;
 * - `Statement.run()` returns the number of changed rows (a number, not an object);
 * - `Statement.get()` returns `undefined` for no row; rows are plain objects;
 * - errors are plain `Error`s carrying only a message, with no code, as @db/sqlite's `unwrap()`
 *   throws when it has a database handle;
 * - `exec()` returns the number of changed rows; `close()` can be called twice;
 * - `inTransaction` and `autocommit` getters, `open` getter, `unsafeHandle`.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";

type Value = string | number | bigint | Uint8Array | null;

/** Rethrows a node:sqlite error as @db/sqlite does: a plain Error, message only. */
function plain<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new Error(error instanceof Error ? error.message : String(error));
  }
}

/** The stand-in's statement. */
export class StandInStatement {
  #statement: StatementSync;
  #int64: boolean;
  #sql: string;

  constructor(statement: StatementSync, int64: boolean, sql: string) {
    this.#statement = statement;
    this.#int64 = int64;
    this.#sql = sql;
  }

  #row(row: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    if (row === undefined) return undefined;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row)) {
      // sqlite3_column_int keeps the low 32 bits, as a signed integer.
      out[key] = !this.#int64 && typeof value === "number" && Number.isInteger(value)
        ? value | 0
        : value;
    }
    return out;
  }

  /** Runs the statement; returns the number of changed rows. */
  run(...params: Value[]): number {
    return plain(() => Number(this.#statement.run(...params).changes));
  }

  /** Returns the first row as a plain object, or undefined. */
  get(...params: Value[]): Record<string, unknown> | undefined {
    return plain(() => this.#row(this.#statement.get(...params)));
  }

  /** Returns every row as plain objects. */
  all(...params: Value[]): Record<string, unknown>[] {
    return plain(() => {
      const rows = this.#statement.all(...params).map((row) => this.#row(row)!);
      if (faults.failReadsOf?.test(this.#sql)) {
        throw new Error("simulated failure reading the rows of a statement that ran");
      }
      return rows;
    });
  }
}

/**
 * Fault injection for tests: while `failReadsOf` is set, statements whose SQL matches it run,
 * then fail while their rows are read, as a driver that cannot convert a value would.
 */
export const faults: { failReadsOf: RegExp | undefined } = { failReadsOf: undefined };

/** The stand-in's database. */
export class StandInDatabase {
  #db: DatabaseSync;
  #int64: boolean;
  #open = true;

  constructor(path: string, options: { int64?: boolean } = {}) {
    this.#db = plain(() => new DatabaseSync(path));
    this.#int64 = options.int64 ?? false;
  }

  /** Whether the connection is open. */
  get open(): boolean {
    return this.#open;
  }

  /** Whether a transaction is open. */
  get inTransaction(): boolean {
    return this.#open && this.#db.isTransaction;
  }

  /** Whether the connection is in autocommit mode. */
  get autocommit(): boolean {
    return !this.inTransaction;
  }

  /** A stand-in for the FFI pointer. */
  get unsafeHandle(): object {
    return this.#db;
  }

  /** Prepares a statement. */
  prepare(sql: string): StandInStatement {
    return new StandInStatement(plain(() => this.#db.prepare(sql)), this.#int64, sql);
  }

  /** Runs SQL; returns the number of changed rows. */
  exec(sql: string): number {
    return plain(() => {
      this.#db.exec(sql);
      return 0;
    });
  }

  /** Closes the connection; a second call does nothing. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#db.close();
  }
}
