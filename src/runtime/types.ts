/**
 * The internal driver interface: the only shape of a SQLite connection the rest of qite sees.
 * Every runtime difference lives in this folder.
 *
 * @module
 */

/** The drivers qite speaks. */
export type DriverName = "node:sqlite" | "bun:sqlite" | "@db/sqlite";

/**
 * The values qite binds: strings, safe integers, 64-bit integers as bigint (priorities beyond
 * 2^53), bytes and null, positional only.
 */
export type Bindable = string | number | bigint | Uint8Array | null;

/** A result row. Rows from node:sqlite have a null prototype. */
export type Row = Record<string, unknown>;

/** A prepared statement, normalised across drivers. */
export interface DriverStatement {
  /** Runs the statement and returns the number of rows it changed. */
  run(...params: Bindable[]): number;
  /** Returns the first row, or `undefined` when there is none. */
  get(...params: Bindable[]): Row | undefined;
  /** Returns every row. */
  all(...params: Bindable[]): Row[];
}

/** A connection, normalised across drivers. */
export interface Driver {
  /** Which driver this is. */
  readonly name: DriverName;
  /** The handle the driver gave, untouched. */
  readonly native: object;
  /** Prepares a statement (not cached; the caller caches). */
  prepare(sql: string): DriverStatement;
  /** Runs one or more statements without parameters. */
  exec(sql: string): void;
  /** Whether the connection is inside an open transaction. */
  inTransaction(): boolean;
  /** Closes the connection; a second call does nothing. */
  close(): void;
}

/** How a driver adapter is described to the loader. */
export interface DriverAdapter {
  /** The driver's name. */
  readonly name: DriverName;
  /** Whether `handle` is a connection object of this driver. */
  recognises(handle: object): boolean;
  /** Wraps an open connection of this driver. */
  wrap(handle: object): Driver;
}
