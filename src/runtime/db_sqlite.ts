/**
 * The adapter for `@db/sqlite` (Deno FFI). qite never imports it: the user opens a `Database`
 * with `int64: true` and hands it over.
 *
 * @module
 */

import { driverCall as call } from "./_errors.ts";
import type { Bindable, Driver, DriverAdapter, DriverStatement, Row } from "./types.ts";

/** The part of `@db/sqlite`'s `Statement` qite uses. */
interface DbSqliteStatement {
  run(...params: Bindable[]): number;
  get(...params: Bindable[]): Row | undefined;
  all(...params: Bindable[]): Row[];
}

/** The part of `@db/sqlite`'s `Database` qite uses. */
export interface DbSqliteDatabase {
  prepare(sql: string): DbSqliteStatement;
  exec(sql: string): number;
  close(): void;
  readonly inTransaction: boolean;
}

function wrapStatement(statement: DbSqliteStatement): DriverStatement {
  return {
    run: (...params: Bindable[]): number => call(() => statement.run(...params)),
    get: (...params: Bindable[]): Row | undefined => call(() => statement.get(...params)),
    all: (...params: Bindable[]): Row[] => call(() => statement.all(...params)),
  };
}

function wrap(handle: object): Driver {
  const db = handle as DbSqliteDatabase;
  return {
    name: "@db/sqlite",
    native: db,
    prepare: (sql: string): DriverStatement => wrapStatement(call(() => db.prepare(sql))),
    exec: (sql: string): void => {
      call(() => db.exec(sql));
    },
    inTransaction: (): boolean => db.inTransaction,
    close: (): void => db.close(),
  };
}

/** Recognises and wraps `@db/sqlite` connections. */
export const dbSqliteAdapter: DriverAdapter = {
  name: "@db/sqlite",
  recognises: (handle: object): boolean =>
    "inTransaction" in handle && "unsafeHandle" in handle &&
    typeof (handle as Partial<DbSqliteDatabase>).prepare === "function",
  wrap,
};
