/**
 * The `goqite` table, exactly as goqite creates it, plus qite's two partial indexes.
 *
 * @module
 */

import { Database, type SqliteHandle } from "./database.ts";
import { QueueError } from "../errors.ts";

/**
 * goqite's SQLite schema, unchanged (table, trigger and index), written so that running it again
 * does nothing. A Go program using goqite and a qite program can share one database file.
 *
 * @example Using the schema in your own migration
 * ```ts
 * import { GOQITE_SCHEMA } from "@qite/qite";
 * import assert from "node:assert/strict";
 *
 * assert.match(GOQITE_SCHEMA, /create table if not exists goqite/);
 * ```
 */
export const GOQITE_SCHEMA: string = `create table if not exists goqite (
  id text primary key default ('m_' || lower(hex(randomblob(16)))),
  created text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  updated text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  queue text not null,
  body blob not null,
  timeout text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  received integer not null default 0,
  priority integer not null default 0
) strict;

create trigger if not exists goqite_updated_timestamp after update on goqite begin
  update goqite set updated = strftime('%Y-%m-%dT%H:%M:%fZ') where id = old.id;
end;

create index if not exists goqite_queue_priority_created_idx on goqite (queue, priority desc, created);
`;

/**
 * qite's two extra indexes. They split the table so that receiving stays fast however many
 * messages are dead, delayed, in flight or due for a retry, and in goqite's order:
 *
 * - `qite_ready_idx` holds the messages whose visibility time is not after their `created`
 *   time, in goqite's order (priority, then age): messages sent without a delay, and retries and
 *   delayed messages once they are due (a receive moves those here, "promoting" them, by
 *   setting their `timeout` back to their `created`: still in the past, so nothing changes for
 *   goqite). Its first visible entry is the next message.
 * - `qite_waiting_idx` holds every other message, by receive count and visibility time: those
 *   in flight, delayed, due but not yet promoted, and dead. Due ones are found by a short range
 *   seek per receive count, and dead ones (received `maxReceive` times or more) are never read
 *   by a receive.
 *
 * goqite ignores them; they cost a little on each write. The first version of qite had
 * `qite_fresh_idx` and `qite_other_idx` instead; {@linkcode setup} drops them.
 */
export const QITE_INDEXES: string =
  `create index if not exists qite_ready_idx on goqite (queue, priority desc, created)
  where timeout <= created;

create index if not exists qite_waiting_idx on goqite (queue, received, timeout)
  where timeout > created;

drop index if exists qite_fresh_idx;

drop index if exists qite_other_idx;
`;

/**
 * Everything {@linkcode setup} creates: {@linkcode GOQITE_SCHEMA} then {@linkcode QITE_INDEXES}.
 * Every statement is idempotent.
 *
 * @example Reading the schema
 * ```ts
 * import { SCHEMA } from "@qite/qite";
 * import assert from "node:assert/strict";
 *
 * assert.match(SCHEMA, /qite_ready_idx/);
 * ```
 */
export const SCHEMA: string = GOQITE_SCHEMA + "\n" + QITE_INDEXES;

/**
 * Creates the `goqite` table, its trigger and its indexes, in one transaction. Safe to call
 * again: what exists is left as it is, so it also adds qite's indexes to a table goqite made.
 *
 * @param db A {@linkcode Database} or a driver handle (see {@linkcode Database.from}).
 * @throws {QueueError} If SQLite fails (for example `READONLY`), or `SCHEMA_MISMATCH` if a
 * `goqite` table exists that is not goqite's.
 *
 * @example Setting up a database twice
 * ```ts
 * import { open, setup } from "@qite/qite";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * setup(db);
 * setup(db);
 * assert.equal(db.prepare("select count(*) as n from goqite").get()?.n, 0);
 * ```
 */
export function setup(db: Database | SqliteHandle): void {
  const database = Database.from(db);
  const [table, rest] = splitFirstStatement(SCHEMA);
  database.transaction(() => {
    database.exec(table);
    checkTable(database);
    database.exec(rest);
  });
}

/** goqite's columns: name, type, not null, primary key. */
const COLUMNS: ReadonlyArray<readonly [string, string, number, number]> = [
  ["id", "TEXT", 1, 1],
  ["created", "TEXT", 1, 0],
  ["updated", "TEXT", 1, 0],
  ["queue", "TEXT", 1, 0],
  ["body", "BLOB", 1, 0],
  ["timeout", "TEXT", 1, 0],
  ["received", "INTEGER", 1, 0],
  ["priority", "INTEGER", 1, 0],
];

/** Refuses a `goqite` table that is not goqite's (another program's table of that name). */
function checkTable(db: Database): void {
  const found = new Map(
    db.prepare("pragma table_info(goqite)").all().map((row) => [String(row.name), row]),
  );
  const problems: string[] = [];
  for (const [name, type, notNull, pk] of COLUMNS) {
    const column = found.get(name);
    if (column === undefined) problems.push(`column ${name} is missing`);
    else if (
      String(column.type).toUpperCase() !== type || Number(column.notnull) !== notNull ||
      Number(column.pk) !== pk
    ) {
      problems.push(`column ${name} is not ${type}${notNull ? " not null" : ""}`);
    }
  }
  if (problems.length > 0) {
    throw new QueueError(
      "SCHEMA_MISMATCH",
      `Cannot set up database as its goqite table is not goqite's: ${problems.join(", ")}`,
    );
  }
}

function splitFirstStatement(sql: string): [string, string] {
  const end = sql.indexOf(") strict;") + ") strict;".length;
  return [sql.slice(0, end), sql.slice(end)];
}
