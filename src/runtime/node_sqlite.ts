/**
 * The adapter for `node:sqlite` (`DatabaseSync`), built into Node ≥ 22.13, Deno 2 and Bun ≥ 1.4.
 *
 * @module
 */

import { driverCall as call } from "./_errors.ts";
import type { Bindable, Driver, DriverAdapter, DriverStatement, Row } from "./types.ts";

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
  readonly isOpen: boolean;
  readonly isTransaction: boolean;
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

function wrap(handle: object): Driver {
  const db = handle as NodeDatabase;
  return {
    name: "node:sqlite",
    native: db,
    prepare: (sql: string): DriverStatement => wrapStatement(call(() => db.prepare(sql))),
    exec: (sql: string): void => call(() => db.exec(sql)),
    inTransaction: (): boolean => call(() => db.isTransaction),
    close: (): void => {
      // A second close() throws ERR_INVALID_STATE in node:sqlite; the others ignore it.
      if (db.isOpen) db.close();
    },
  };
}

/** Recognises and wraps `node:sqlite` connections. */
export const nodeAdapter: DriverAdapter = {
  name: "node:sqlite",
  recognises: (handle: object): boolean =>
    "isTransaction" in handle && "isOpen" in handle &&
    typeof (handle as Partial<NodeDatabase>).prepare ===
      "function",
  wrap,
};
