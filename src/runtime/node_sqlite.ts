/**
 * The adapter for `node:sqlite` (`DatabaseSync`), built into Node ≥ 22.13, Deno 2 and Bun ≥ 1.4.
 * The differences between Node's versions are all here: before Node 22.20 (and in 24.0 to 24.6)
 * it binds no numbered parameter (`?1`), which the adapter then rewrites as plain ones, and
 * before 22.15 and 22.16 it has no `isOpen` and `isTransaction`.
 *
 * @module
 */

import { driverCall as call } from "./_errors.ts";
import type { Bindable, Driver, DriverAdapter, DriverStatement, Row } from "./types.ts";
import { plainParams, reorder } from "./_numbered_params.ts";

/** The part of `node:sqlite`'s `StatementSync` qite uses. */
interface NodeStatement {
  run(...params: Bindable[]): { changes: number | bigint };
  get(...params: Bindable[]): Row | undefined;
  all(...params: Bindable[]): Row[];
}

/** The part of `node:sqlite`'s `DatabaseSync` qite uses. */
export interface NodeDatabase {
  prepare(sql: string): NodeStatement;
  exec(sql: string): void;
  close(): void;
  /** Node ≥ 22.15 (undefined before). */
  readonly isOpen?: boolean;
  /** Node ≥ 22.16 (undefined before). */
  readonly isTransaction?: boolean;
}

/** The part of the `node:sqlite` module qite uses. */
export interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { readOnly?: boolean }) => NodeDatabase;
}

function wrapStatement(statement: NodeStatement): DriverStatement {
  return {
    run: (...params: Bindable[]): number => call(() => Number(statement.run(...params).changes)),
    get: (...params: Bindable[]): Row | undefined => call(() => statement.get(...params)),
    all: (...params: Bindable[]): Row[] => call(() => statement.all(...params)),
  };
}

/** A statement whose numbered parameters were rewritten as plain ones. */
function wrapReordered(statement: NodeStatement, order: readonly number[]): DriverStatement {
  const plain = wrapStatement(statement);
  return {
    run: (...params: Bindable[]): number => plain.run(...reorder(order, params)),
    get: (...params: Bindable[]): Row | undefined => plain.get(...reorder(order, params)),
    all: (...params: Bindable[]): Row[] => plain.all(...reorder(order, params)),
  };
}

/** Whether this node:sqlite binds `?NNN` by its number (Node ≥ 22.20, ≥ 24.7, Deno, Bun). */
function bindsNumbered(db: NodeDatabase): boolean {
  try {
    return db.prepare("select ?2 as v").get(1, 2)?.v === 2;
  } catch {
    return false;
  }
}

/**
 * Whether the connection is inside a transaction. Before Node 22.16, node:sqlite does not say:
 * then a deferred `begin` (which takes no lock) tells, failing inside a transaction.
 */
function inTransaction(db: NodeDatabase): boolean {
  const known = db.isTransaction;
  if (known !== undefined) return known;
  try {
    db.exec("begin deferred");
  } catch (error) {
    // A closed connection throws ERR_INVALID_STATE: that is no answer.
    if ((error as { code?: unknown }).code === "ERR_INVALID_STATE") throw error;
    return true;
  }
  db.exec("rollback");
  return false;
}

function wrap(handle: object): Driver {
  const db = handle as NodeDatabase;
  let numbered: boolean | undefined;
  const prepare = (sql: string): DriverStatement => {
    const plain = plainParams(sql);
    if (plain.order !== undefined && !(numbered ??= bindsNumbered(db))) {
      return wrapReordered(call(() => db.prepare(plain.sql)), plain.order);
    }
    return wrapStatement(call(() => db.prepare(sql)));
  };
  return {
    name: "node:sqlite",
    native: db,
    prepare,
    exec: (sql: string): void => call(() => db.exec(sql)),
    inTransaction: (): boolean => call(() => inTransaction(db)),
    close: (): void => {
      // A second close() throws ERR_INVALID_STATE in node:sqlite; the others ignore it.
      if (db.isOpen === false) return;
      try {
        db.close();
      } catch (error) {
        if (db.isOpen !== undefined) throw error;
      }
    },
  };
}

/** Recognises and wraps `node:sqlite` connections. */
export const nodeAdapter: DriverAdapter = {
  name: "node:sqlite",
  recognises: (handle: object): boolean =>
    typeof (handle as Partial<NodeDatabase>).prepare === "function" &&
    (("isTransaction" in handle && "isOpen" in handle) ||
      handle.constructor?.name === "DatabaseSync"),
  wrap,
};
