/**
 * The one error family for operational failures.
 *
 * @module
 */

/**
 * The stable codes a {@linkcode QueueError} carries.
 *
 * - `BUSY`: the database stayed locked by another connection for longer than the busy timeout
 *   (SQLite), or a statement or lock timeout cancelled the statement (PostgreSQL).
 * - `LOCKED`: a table in this connection's own database is locked (shared cache, open cursor).
 * - `CONSTRAINT`: a constraint failed (unique, not null, check, foreign key).
 * - `CLOSED`: the queue or its database connection is closed.
 * - `READONLY`: the database cannot be written (read-only file or connection).
 * - `CORRUPT`: the database file is damaged.
 * - `NOT_A_DATABASE`: the file is not a SQLite database.
 * - `FULL`: the disk or the database is full.
 * - `IO`: the operating system reported an I/O error.
 * - `CANT_OPEN`: the database file cannot be opened (missing directory, permissions).
 * - `TOO_BIG`: a string or blob is larger than SQLite allows.
 * - `NOT_SET_UP`: the `goqite` table (or its PostgreSQL schema) does not exist; call `setup` first.
 * - `SCHEMA_MISMATCH`: a `goqite` table exists but is not goqite's.
 * - `UNSUPPORTED`: the SQLite library or driver lacks something qite needs.
 * - `LEASE_LOST`: a job's lease ran out or was taken, and another consumer may hold its message.
 * - `HTTP`: a qite server answered a client with an error status (see `HttpError`).
 * - `NETWORK`: a client could not reach its server, or the answer was not qite's; for PostgreSQL,
 *   the connection could not be opened or was lost, and retrying for the queue's `retryTimeout`
 *   did not help.
 * - `SQLITE`: any other SQLite error; see `sqliteCode` and `cause`.
 * - `POSTGRES`: any other PostgreSQL error; see `sqlState` and `cause`.
 */
export type QueueErrorCode =
  | "BUSY"
  | "LOCKED"
  | "CONSTRAINT"
  | "CLOSED"
  | "READONLY"
  | "CORRUPT"
  | "NOT_A_DATABASE"
  | "FULL"
  | "IO"
  | "CANT_OPEN"
  | "TOO_BIG"
  | "NOT_SET_UP"
  | "SCHEMA_MISMATCH"
  | "UNSUPPORTED"
  | "LEASE_LOST"
  | "HTTP"
  | "NETWORK"
  | "SQLITE"
  | "POSTGRES";

/** Options for {@linkcode QueueError}. */
export interface QueueErrorOptions {
  /** The underlying error, usually the driver's. */
  cause?: unknown;
  /**
   * The SQLite result code, extended where the driver reports it (for example 2067 for a
   * unique constraint, 5 for busy). Absent when the driver gave none.
   */
  sqliteCode?: number;
  /**
   * The PostgreSQL SQLSTATE (for example `"23505"` for a unique violation, `"57P01"` for a
   * terminated connection). Absent when the server sent none (the client lost its connection).
   */
  sqlState?: string;
}

/**
 * An operational failure: the database was busy, closed, read-only, full, and so on.
 *
 * Misuse (a wrong argument) throws `TypeError` or `RangeError` instead. The driver's own
 * error is kept as `cause`, its SQLite result code as `sqliteCode` and a PostgreSQL server's
 * SQLSTATE as `sqlState`.
 *
 * @example Telling a busy database from other failures
 * ```ts
 * import { QueueError } from "@qite/qite";
 * import assert from "node:assert/strict";
 *
 * const error = new QueueError("BUSY", "Cannot send message as the database is locked", {
 *   sqliteCode: 5,
 * });
 * assert.ok(error instanceof QueueError);
 * assert.equal(error.code, "BUSY");
 * assert.equal(error.sqliteCode, 5);
 * ```
 */
export class QueueError extends Error {
  /** A stable code for the kind of failure. */
  readonly code: QueueErrorCode;
  /** The SQLite result code (extended where known), or `undefined` when none was reported. */
  readonly sqliteCode: number | undefined;
  /** The PostgreSQL SQLSTATE, or `undefined` when none was reported. */
  readonly sqlState: string | undefined;

  /**
   * Creates a queue error.
   *
   * @param code The stable code.
   * @param message What failed, in a sentence.
   * @param options The cause, the SQLite result code and the PostgreSQL SQLSTATE.
   */
  constructor(code: QueueErrorCode, message: string, options: QueueErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "QueueError";
    this.code = code;
    this.sqliteCode = options.sqliteCode;
    this.sqlState = options.sqlState;
  }
}
