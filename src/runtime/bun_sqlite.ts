/**
 * The adapter for `bun:sqlite`, Bun's own driver and its fastest.
 *
 * @module
 */

import { driverCall as call } from "./_errors.ts";
import type { Bindable, Driver, DriverAdapter, DriverStatement, Row } from "./types.ts";

/** The part of `bun:sqlite`'s `Statement` qite uses. */
interface BunStatement {
  run(...params: Bindable[]): { changes: number };
  get(...params: Bindable[]): Row | null;
  all(...params: Bindable[]): Row[];
}

/** The part of `bun:sqlite`'s `Database` qite uses. */
export interface BunDatabase {
  prepare(sql: string): BunStatement;
  exec(sql: string): unknown;
  close(throwOnError?: boolean): void;
  readonly inTransaction: boolean;
  transaction: unknown;
}

/** The part of the `bun:sqlite` module qite uses. */
export interface BunSqliteModule {
  Database: new (
    path: string,
    options?: { readonly?: boolean; create?: boolean; readwrite?: boolean },
  ) => BunDatabase;
}

function wrapStatement(statement: BunStatement): DriverStatement {
  return {
    run: (...params: Bindable[]): number => call(() => statement.run(...params).changes),
    // bun:sqlite returns null where the others return undefined.
    get: (...params: Bindable[]): Row | undefined =>
      call(() => statement.get(...params) ?? undefined),
    all: (...params: Bindable[]): Row[] => call(() => statement.all(...params)),
  };
}

function wrap(handle: object): Driver {
  const db = handle as BunDatabase;
  return {
    name: "bun:sqlite",
    native: db,
    prepare: (sql: string): DriverStatement => wrapStatement(call(() => db.prepare(sql))),
    exec: (sql: string): void => {
      call(() => db.exec(sql));
    },
    inTransaction: (): boolean => call(() => db.inTransaction),
    close: (): void => db.close(false),
  };
}

/** Recognises and wraps `bun:sqlite` connections. */
export const bunAdapter: DriverAdapter = {
  name: "bun:sqlite",
  // bun:sqlite has `query` (a caching prepare) and `fileControl`; node:sqlite and @db/sqlite have
  // neither.
  recognises: (handle: object): boolean =>
    "inTransaction" in handle && typeof (handle as { query?: unknown }).query === "function" &&
    typeof (handle as { fileControl?: unknown }).fileControl === "function",
  wrap,
};
