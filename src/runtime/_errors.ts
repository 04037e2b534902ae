/**
 * The one place where each driver's errors become a {@linkcode QueueError}.
 *
 * node:sqlite reports `errcode` (extended), bun:sqlite `errno` (extended), @db/sqlite a
 * `SqliteError` with a numeric `code` or, often, a plain `Error` with only a message. Deno's
 * node:sqlite drops `errcode` on `exec()`. So the code is read from whichever field is present,
 * and the message is the fallback.
 *
 * @module
 */

import { QueueError, type QueueErrorCode } from "../errors.ts";

const PRIMARY_CODES: ReadonlyMap<number, QueueErrorCode> = new Map([
  [5, "BUSY"],
  [6, "LOCKED"],
  [8, "READONLY"],
  [10, "IO"],
  [11, "CORRUPT"],
  [13, "FULL"],
  [14, "CANT_OPEN"],
  [18, "TOO_BIG"],
  [19, "CONSTRAINT"],
  [26, "NOT_A_DATABASE"],
]);

/** Message patterns, for drivers that give no code, with the primary code each one means. */
const MESSAGES: ReadonlyArray<[RegExp, number]> = [
  [/database is locked/i, 5],
  [/database table is locked/i, 6],
  [/readonly database/i, 8],
  [/disk I\/O error/i, 10],
  [/database disk image is malformed/i, 11],
  [/database or disk is full/i, 13],
  [/unable to open database/i, 14],
  [/string or blob too big/i, 18],
  [/constraint failed/i, 19],
  [/file is not a database/i, 26],
];

const CLOSED =
  /not open|closed database|database is closed|database has closed|has been finalized|already finalized/i;
const NO_TABLE = /no such table: (main\.)?goqite\b/i;

/** Set by adapters whose driver throws plain `Error`s, so they are still known as SQLite's. */
const DRIVER_ERROR: unique symbol = Symbol("qite.driverError");

/**
 * Marks an error as thrown by the driver (for drivers that throw plain `Error`s) and returns it.
 *
 * @param error What the driver threw.
 */
export function markDriverError(error: unknown): unknown {
  if (error instanceof Error) (error as Error & { [DRIVER_ERROR]?: true })[DRIVER_ERROR] = true;
  return error;
}

/**
 * Runs a driver call, marking whatever it throws as the driver's: every driver error then
 * reaches callers as a `QueueError`, even one qite does not know (a `RangeError` for an integer
 * the driver cannot read, say).
 *
 * @param fn The call.
 * @returns What it returned.
 */
export function driverCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw markDriverError(error);
  }
}

function numeric(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}

/** Reads the SQLite result code a driver error carries, extended where the driver gives it. */
function sqliteCodeOf(error: Error): number | undefined {
  const fields = error as unknown as Record<string, unknown>;
  return numeric(fields.errcode) ?? numeric(fields.errno) ??
    (error.name === "SqliteError" ? numeric(fields.code) : undefined);
}

function looksLikeDriverError(error: Error, sqliteCode: number | undefined): boolean {
  if (sqliteCode !== undefined || DRIVER_ERROR in error) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (code.startsWith("SQLITE") || code === "ERR_SQLITE_ERROR")) {
    return true;
  }
  if (code === "ERR_INVALID_STATE") return true; // node:sqlite: database or statement closed
  if (/sqlite/i.test(error.name)) return true;
  return CLOSED.test(error.message) || NO_TABLE.test(error.message) ||
    MESSAGES.some(([pattern]) => pattern.test(error.message));
}

/**
 * Turns whatever a driver threw into a {@linkcode QueueError}, keeping the SQLite code and the
 * original error as `cause`. Errors that did not come from the driver (and `QueueError`s) are
 * returned unchanged.
 *
 * @param error What was thrown.
 * @param action What qite was doing, as in "Cannot {action}", e.g. "receive message".
 */
export function toQueueError(error: unknown, action: string): unknown {
  if (!(error instanceof Error) || error instanceof QueueError) return error;
  let sqliteCode = sqliteCodeOf(error);
  if (!looksLikeDriverError(error, sqliteCode)) return error;
  const message = error.message;
  if (sqliteCode === undefined) {
    sqliteCode = MESSAGES.find(([pattern]) => pattern.test(message))?.[1];
  }
  let code: QueueErrorCode = "SQLITE";
  if (NO_TABLE.test(message)) code = "NOT_SET_UP";
  else if (sqliteCode !== undefined && PRIMARY_CODES.has(sqliteCode & 0xff)) {
    code = PRIMARY_CODES.get(sqliteCode & 0xff)!;
  } else if (CLOSED.test(message) || sqliteCode === 21) code = "CLOSED";
  const hint = code === "NOT_SET_UP" ? " (call setup(db) to create the goqite table)" : "";
  return new QueueError(code, `Cannot ${action}: ${message}${hint}`, {
    cause: error,
    ...(sqliteCode === undefined ? {} : { sqliteCode }),
  });
}
