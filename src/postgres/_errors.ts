/**
 * The one place where PostgreSQL errors (from the server, through either client) become a
 * {@linkcode QueueError}, and where qite decides which failures it retries.
 *
 * postgres.js throws a `PostgresError` whose `code` is the SQLSTATE, and plain `Error`s with a
 * `code` such as `CONNECTION_CLOSED` or `ECONNREFUSED` for the connection; Bun.sql throws a
 * `PostgresError` whose `code` is `ERR_POSTGRES_SERVER_ERROR` and whose `errno` is the
 * SQLSTATE, or `ERR_POSTGRES_CONNECTION_CLOSED` and the like for the connection.
 *
 * @module
 */

import { QueueError, type QueueErrorCode } from "../errors.ts";

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE an error from the server carries, from either client: Bun.sql's `errno`, or the
 * `code` of postgres.js's `PostgresError` (its other errors have codes such as `EPIPE`, which
 * look like a SQLSTATE but are not).
 */
export function sqlStateOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const fields = error as unknown as { code?: unknown; errno?: unknown };
  if (typeof fields.errno === "string" && SQLSTATE.test(fields.errno)) return fields.errno;
  if (
    error.name === "PostgresError" && typeof fields.code === "string" &&
    SQLSTATE.test(fields.code)
  ) {
    return fields.code;
  }
  return undefined;
}

/** The client's own code (`CONNECTION_CLOSED`, `ERR_POSTGRES_CONNECTION_CLOSED`, …). */
function clientCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && sqlStateOf(error) !== code ? code : undefined;
}

/** Client codes of a connection that could not be opened or was lost. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ERR_POSTGRES_CONNECTION_CLOSED",
  "ERR_POSTGRES_CONNECTION_REFUSED",
  "ERR_POSTGRES_CONNECTION_TIMEOUT",
  "ERR_POSTGRES_IDLE_TIMEOUT",
  "ERR_POSTGRES_LIFETIME_TIMEOUT",
]);

/** Client codes of a client its owner has ended. */
const ENDED_CODES: ReadonlySet<string> = new Set(["CONNECTION_ENDED"]);

/** How qite treats a failure. */
export type Failure =
  /** The connection was lost or could not be opened: retry on a new one. */
  | "connection"
  /** A serialization failure or deadlock: the statement had no effect; retry it. */
  | "conflict"
  /** Anything else: report it. */
  | "final";

/**
 * How qite treats what a statement threw.
 *
 * @param error What the client threw.
 */
export function classify(error: unknown): Failure {
  const state = sqlStateOf(error);
  if (state !== undefined) {
    if (state === "40001" || state === "40P01") return "conflict";
    // 08: connection exception; 57P01-03: the server is terminating or starting the session.
    if (state.startsWith("08") || state === "57P01" || state === "57P02" || state === "57P03") {
      return "connection";
    }
    // Too many connections: another try may find a free one.
    if (state === "53300") return "connection";
    return "final";
  }
  const code = clientCodeOf(error);
  return code !== undefined && CONNECTION_CODES.has(code) ? "connection" : "final";
}

/** Whether the error says the client was ended by its owner. */
export function isEnded(error: unknown): boolean {
  const code = clientCodeOf(error);
  return code !== undefined && ENDED_CODES.has(code);
}

/**
 * Whether the error may say that the client was ended by its owner: Bun.sql reports a closed
 * client as it reports a lost connection. qite retries such an error a couple of times (a lost
 * connection is reopened at once) and then reports it as `CLOSED`.
 */
export function mayBeEnded(error: unknown): boolean {
  return clientCodeOf(error) === "ERR_POSTGRES_CONNECTION_CLOSED";
}

/** How many statements qite retried, by cause, in this process (for the bench). */
export const retried: { connection: number; conflict: number } = { connection: 0, conflict: 0 };

/** Whether this is an error of a PostgreSQL client at all (rather than of qite's own code). */
function isClientError(error: Error): boolean {
  return sqlStateOf(error) !== undefined || clientCodeOf(error) !== undefined ||
    /postgres/i.test(error.name);
}

/** The table (or schema) of the statement is missing. */
function isNotSetUp(state: string | undefined, message: string): boolean {
  return (state === "42P01" && /\bgoqite\b/.test(message)) || state === "3F000";
}

function codeFor(error: Error, state: string | undefined): QueueErrorCode {
  if (isEnded(error)) return "CLOSED";
  if (classify(error) === "connection") return "NETWORK";
  if (state === undefined) return "POSTGRES";
  if (isNotSetUp(state, error.message)) return "NOT_SET_UP";
  if (state === "40001" || state === "40P01" || state === "55P03" || state === "57014") {
    return "BUSY";
  }
  if (state.startsWith("23")) return "CONSTRAINT";
  if (state === "25006") return "READONLY";
  if (state.startsWith("53")) return "FULL";
  if (state === "54000") return "TOO_BIG";
  if (state.startsWith("58")) return "IO";
  return "POSTGRES";
}

/**
 * Turns whatever a client threw into a {@linkcode QueueError}, keeping the SQLSTATE and the
 * original error as `cause`. `QueueError`s, and errors that did not come from a client, are
 * returned unchanged.
 *
 * @param error What was thrown.
 * @param action What qite was doing, as in "Cannot {action}", e.g. "receive message".
 */
export function toQueueError(error: unknown, action: string): unknown {
  if (!(error instanceof Error) || error instanceof QueueError || !isClientError(error)) {
    return error;
  }
  const state = sqlStateOf(error);
  const code = codeFor(error, state);
  const hint = code === "NOT_SET_UP"
    ? " (call setup(sql) to create the goqite table)"
    : code === "CLOSED"
    ? " (the PostgreSQL client has been ended)"
    : "";
  return new QueueError(code, `Cannot ${action}: ${error.message}${hint}`, {
    cause: error,
    ...(state === undefined ? {} : { sqlState: state }),
  });
}
