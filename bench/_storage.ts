/**
 * Where a workload runs: a fresh database in memory or on a WAL file, with its settings.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, GOQITE_SCHEMA, open, setup, type Synchronous } from "../mod.ts";

/** The storages every workload is measured on. */
export const STORAGES = ["memory", "wal-normal", "wal-full"] as const;

/** One of {@linkcode STORAGES}. */
export type StorageName = typeof STORAGES[number];

/** The drivers `open()` can be asked for. */
export type OpenDriver = "node:sqlite" | "bun:sqlite";

/** A fresh, set-up database for one trial; `close()` removes its file. */
export interface Store {
  readonly db: Database;
  /** The file, or `""` in memory. */
  readonly path: string;
  readonly synchronous: Synchronous;
  readonly driver: OpenDriver | undefined;
  close(): void;
}

/** The settings a row of results reports. */
export interface Settings {
  readonly driver: string;
  readonly sqliteVersion: string;
  readonly journalMode: string;
  readonly synchronous: string;
}

const SYNCHRONOUS = ["OFF", "NORMAL", "FULL", "EXTRA"];

/** Which schema a store gets: qite's (`setup()`), or goqite's alone (no qite index). */
export type SchemaName = "qite" | "goqite";

/** Opens a fresh database of `storage` with `driver` (the runtime's default when undefined). */
export function openStore(
  storage: StorageName,
  driver: OpenDriver | undefined,
  schema: SchemaName = "qite",
): Store {
  const synchronous: Synchronous = storage === "wal-full" ? "FULL" : "NORMAL";
  const dir = storage === "memory" ? "" : mkdtempSync(join(tmpdir(), "qite-bench-"));
  const path = dir === "" ? "" : join(dir, "bench.db");
  const db = open(
    path || ":memory:",
    driver === undefined ? { synchronous } : {
      driver,
      synchronous,
    },
  );
  if (schema === "qite") setup(db);
  else db.exec(GOQITE_SCHEMA);
  return {
    db,
    path,
    synchronous,
    driver,
    close(): void {
      db.close();
      if (dir !== "") rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads the driver, SQLite version, journal mode and `synchronous` of `db`. */
export function settingsOf(db: Database): Settings {
  const pragma = (name: string): unknown => {
    const row = db.prepare(`pragma ${name}`).get();
    return row === undefined ? undefined : Object.values(row)[0];
  };
  return {
    driver: db.driver,
    sqliteVersion: db.sqliteVersion,
    journalMode: String(pragma("journal_mode")),
    synchronous: SYNCHRONOUS[Number(pragma("synchronous"))] ?? "unknown",
  };
}
