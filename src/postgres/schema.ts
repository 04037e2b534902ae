/**
 * The `goqite` table on PostgreSQL, as goqite creates it, plus qite's two partial indexes.
 *
 * @module
 */

import { QueueError } from "../errors.ts";
import { type PostgresClient, wrapClient } from "./_client.ts";
import { toQueueError } from "./_errors.ts";
import { quoteIdent, tableName } from "./_sql.ts";
import { checkObject, show } from "../_validate.ts";

/** Options for {@linkcode setup}. */
export interface SetupOptions {
  /**
   * The PostgreSQL schema to create the table in (created too if missing). By default the
   * table is created in the first schema of the connection's `search_path`, as goqite does.
   */
  schema?: string;
}

/**
 * The table, trigger and indexes {@linkcode setup} creates (here for the `search_path`'s first
 * schema). It is goqite's PostgreSQL schema with two differences that change nothing for goqite:
 * the default id is drawn from `gen_random_uuid()` (built into PostgreSQL) rather than pgcrypto's
 * `gen_random_bytes(16)`, so no extension has to be installed (both give `m_` and 32 hex
 * digits; qite always writes its own ids); and qite's partial indexes
 * ({@linkcode QITE_INDEXES}) come after goqite's.
 *
 * @example Reading the schema
 * ```ts
 * import { SCHEMA } from "@qite/qite/postgres";
 * import assert from "node:assert/strict";
 *
 * assert.match(SCHEMA, /create table if not exists goqite/);
 * assert.match(SCHEMA, /qite_ready_idx/);
 * ```
 */
export const SCHEMA: string = schemaSql(undefined);

/**
 * qite's two extra indexes, as on SQLite (see the SQLite `QITE_INDEXES`). They split the table
 * so that receiving stays fast however many messages are dead, delayed, in flight or due for a
 * retry, and in goqite's order:
 *
 * - `qite_ready_idx` holds the messages whose visibility time is not after their `created`
 *   time, in goqite's order (priority, then age): messages sent without a delay, and retries and
 *   delayed messages once a receive has promoted them (by setting `timeout` back to
 *   `created`, still in the past).
 * - `qite_waiting_idx` holds every other message by receive count and visibility time, so the
 *   due ones are found by a short range seek, and dead messages are never read by a receive.
 *
 * goqite ignores them; they cost a little on each write. The first version of qite had
 * `qite_fresh_idx` and `qite_other_idx` instead; `setup()` drops them.
 */
export const QITE_INDEXES: string = indexSql(undefined);

function indexSql(schema: string | undefined): string {
  const table = tableName(schema);
  const index = (name: string): string =>
    schema === undefined ? name : `${quoteIdent(schema)}.${name}`;
  return `create index if not exists qite_ready_idx on ${table} (queue, priority desc, created)
  where timeout <= created;

create index if not exists qite_waiting_idx on ${table} (queue, received, timeout)
  where timeout > created;

drop index if exists ${index("qite_fresh_idx")};

drop index if exists ${index("qite_other_idx")};
`;
}

function schemaSql(schema: string | undefined): string {
  const table = tableName(schema);
  const fn = schema === undefined ? "update_timestamp" : `${quoteIdent(schema)}.update_timestamp`;
  return `${tableSql(table)}

create or replace function ${fn}()
returns trigger as $$
begin
   new.updated = now();
   return new;
end;
$$ language plpgsql;

create or replace trigger goqite_updated_timestamp
before update on ${table}
for each row execute procedure ${fn}();

create index if not exists goqite_queue_priority_created_idx on ${table} (queue, priority desc, created);

${indexSql(schema)}`;
}

function tableSql(table: string): string {
  return `create table if not exists ${table} (
  id text primary key default ('m_' || replace(gen_random_uuid()::text, '-', '')),
  created timestamptz not null default now(),
  updated timestamptz not null default now(),
  queue text not null,
  body bytea not null,
  timeout timestamptz not null default now(),
  received integer not null default 0,
  priority integer not null default 0
);`;
}

/** goqite's columns: name and type. */
const COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ["id", "text"],
  ["created", "timestamp with time zone"],
  ["updated", "timestamp with time zone"],
  ["queue", "text"],
  ["body", "bytea"],
  ["timeout", "timestamp with time zone"],
  ["received", "integer"],
  ["priority", "integer"],
];

/** The oldest PostgreSQL qite runs on: 14 brought exact `extract(epoch …)` and `create or replace trigger`. */
const MIN_SERVER_VERSION = 140000;

/** A lock number only qite's setup takes, so that concurrent setups run one after the other. */
const SETUP_LOCK = 0x71697465; // "qite"

/**
 * Checks a `schema` option: a non-empty string of at most 63 bytes, or undefined.
 *
 * @throws {TypeError} If it is something else.
 */
export function checkSchema(action: string, schema: unknown): asserts schema is string | undefined {
  if (
    schema !== undefined &&
    (typeof schema !== "string" || schema === "" || new TextEncoder().encode(schema).length > 63 ||
      schema.includes("\0"))
  ) {
    throw new TypeError(
      `Cannot ${action} as 'schema' must be a PostgreSQL schema name (1 to 63 bytes): current ` +
        `value is ${show(schema)}`,
    );
  }
}

/**
 * Creates the `goqite` table, its trigger and its indexes (see {@linkcode SCHEMA}), in one
 * transaction, and the schema if one is named. Safe to call again and from several processes at
 * once: what exists is left as it is, so it also adds qite's indexes to a table goqite made.
 * Needs PostgreSQL 14 or later.
 *
 * @param sql A postgres.js `sql` or a Bun.SQL client.
 * @param options The schema.
 * @throws {TypeError} If `sql` is not a client qite recognises, or `schema` is not a name.
 * @throws {QueueError} If PostgreSQL fails, `UNSUPPORTED` if it is older than 14, or
 * `SCHEMA_MISMATCH` if a `goqite` table exists that is not goqite's.
 *
 * @example Setting up a schema twice
 * ```ts
 * import postgres from "postgres";
 * import { PostgresQueue, setup } from "@qite/qite/postgres";
 * import assert from "node:assert/strict";
 *
 * const sql = postgres("postgres://postgres@127.0.0.1:5432/test", { onnotice: () => {} });
 * await sql.unsafe("drop schema if exists qite_doc_setup cascade"); // left by a run that was cut short
 * try {
 *   await setup(sql, { schema: "qite_doc_setup" });
 *   await setup(sql, { schema: "qite_doc_setup" });
 *   const queue = new PostgresQueue({ sql, schema: "qite_doc_setup", name: "q" });
 *   assert.equal((await queue.stats()).total, 0);
 *   await queue.close();
 * } finally {
 *   await sql.unsafe("drop schema if exists qite_doc_setup cascade");
 *   await sql.end();
 * }
 * ```
 */
export async function setup(sql: PostgresClient, options: SetupOptions = {}): Promise<void> {
  const action = "set up database";
  const driver = wrapClient(sql, action);
  checkObject(action, "options", options);
  const { schema } = options;
  checkSchema(action, schema);
  const table = tableName(schema);
  try {
    await driver.transaction(async (tx) => {
      await tx.query("set local client_min_messages = warning", []);
      const [version] = await tx.query(
        "select current_setting('server_version_num')::int4 as v",
        [],
      );
      if (Number(version?.v) < MIN_SERVER_VERSION) {
        throw new QueueError(
          "UNSUPPORTED",
          `Cannot ${action} as qite needs PostgreSQL 14 or later: the server is ${
            String(version?.v)
          }`,
        );
      }
      await tx.query(`select pg_advisory_xact_lock(${SETUP_LOCK})`, []);
      if (schema !== undefined) {
        await tx.query(`create schema if not exists ${quoteIdent(schema)}`, []);
      }
      await tx.query(tableSql(table), []);
      await checkTable(tx.query, table);
      const fn = schema === undefined
        ? "update_timestamp"
        : `${quoteIdent(schema)}.update_timestamp`;
      const [exists] = await tx.query(
        `select to_regprocedure($1::text) is not null as fn,
          exists (select 1 from pg_trigger
            where tgrelid = $2::text::regclass and tgname = 'goqite_updated_timestamp') as trigger`,
        [`${fn}()`, table],
      );
      if (!exists?.fn) {
        await tx.query(
          `create function ${fn}() returns trigger as $$
begin
   new.updated = now();
   return new;
end;
$$ language plpgsql`,
          [],
        );
      }
      if (!exists?.trigger) {
        await tx.query(
          `create trigger goqite_updated_timestamp before update on ${table}
for each row execute procedure ${fn}()`,
          [],
        );
      }
      await tx.query(
        `create index if not exists goqite_queue_priority_created_idx on ${table} (queue, priority desc, created)`,
        [],
      );
      for (const statement of indexSql(schema).split(";").map((s) => s.trim())) {
        if (statement !== "") await tx.query(statement, []);
      }
    });
  } catch (error) {
    throw toQueueError(error, action);
  }
}

/** Refuses a `goqite` table that is not goqite's (another program's table of that name). */
async function checkTable(
  query: (text: string, params: readonly string[]) => Promise<Record<string, unknown>[]>,
  table: string,
): Promise<void> {
  const rows = await query(
    `select a.attname::text as name, format_type(a.atttypid, a.atttypmod) as type,
      a.attnotnull as not_null
    from pg_attribute a
    where a.attrelid = $1::text::regclass and a.attnum > 0 and not a.attisdropped`,
    [table],
  );
  const found = new Map(rows.map((row) => [String(row.name), row]));
  const problems: string[] = [];
  for (const [name, type] of COLUMNS) {
    const column = found.get(name);
    if (column === undefined) problems.push(`column ${name} is missing`);
    else if (column.type !== type || column.not_null !== true) {
      problems.push(`column ${name} is not ${type} not null`);
    }
  }
  if (problems.length > 0) {
    throw new QueueError(
      "SCHEMA_MISMATCH",
      `Cannot set up database as its goqite table is not goqite's: ${problems.join(", ")}`,
    );
  }
}
