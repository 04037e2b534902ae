/**
 * The standalone qite server: every queue of one SQLite file, or of one PostgreSQL database,
 * over HTTP, in goqite's wire format, and the web dashboard at `/`.
 *
 * Run it with any of:
 *
 *     deno run -A http/cli.ts [flags]       (deno task serve)
 *     bun http/cli.ts [flags]
 *     node http/cli.ts [flags]              (Node ≥ 22.18, or 22.13 with --experimental-strip-types)
 *
 * Flags (each also read from the environment variable in brackets):
 *
 *     --db PATH|URL      the SQLite file, created if missing, or a postgres:// URL [QITE_DB]
 *                                                                              (./qite.db)
 *     --schema NAME      the PostgreSQL schema of the goqite table [QITE_SCHEMA] (search path)
 *     --port N           the TCP port, 0 for any free one [QITE_PORT or PORT]    (8080)
 *     --host NAME        the interface; 0.0.0.0 for every one [QITE_HOST]        (127.0.0.1)
 *     --timeout MS       every queue's visibility timeout [QITE_TIMEOUT]        (5000)
 *     --max-receive N    every queue's maximum receive count [QITE_MAX_RECEIVE] (3)
 *     --token SECRET     require "Authorization: Bearer SECRET" [QITE_TOKEN]    (none)
 *                        on /queues; the dashboard asks for it once (a sign-in form)
 *     --read-only        the dashboard shows but takes no action [QITE_READ_ONLY=1]
 *     --no-dashboard     serve no dashboard [QITE_DASHBOARD=0]
 *
 * Given a `postgres://` URL, it creates the `goqite` table (and the schema) if missing, like a
 * SQLite file. On Bun it connects with the built-in Bun.sql; on Deno and Node it needs the npm
 * package `postgres` (postgres.js) installed, which it imports only then.
 *
 * It prints one line with its URLs, and on SIGINT or SIGTERM stops accepting connections, ends
 * long polls, answers the requests in flight, closes the database and exits with status 0.
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { parseArgs } from "node:util";
import { onShutdownSignal } from "../src/runtime/serve.ts";
import { bearerAuthorizer } from "./_bearer.ts";
import {
  isPostgresUrl,
  type OpenedPostgres,
  openPostgres,
} from "../src/runtime/postgres_client.ts";
import { setup as setupPostgres } from "../src/postgres/schema.ts";
import type { Database } from "../src/sqlite/database.ts";
import { serve } from "./server.ts";

interface Env {
  [name: string]: string | undefined;
}
const proc = (globalThis as unknown as {
  process: { argv: string[]; env: Env; exit(code: number): never };
}).process;

const USAGE = "usage: qite-server [--db PATH|URL] [--schema NAME] [--port N] [--host NAME] " +
  "[--timeout MS] [--max-receive N] [--token SECRET] [--read-only] [--no-dashboard]";

function fail(message: string): never {
  console.error(`qite: ${message}\n${USAGE}`);
  return proc.exit(2);
}

function integer(name: string, value: string): number {
  if (!/^[0-9]+$/.test(value)) fail(`--${name} must be a whole number: current value is ${value}`);
  return Number(value);
}

let flags: Record<string, string | boolean | undefined>;
try {
  flags = parseArgs({
    args: proc.argv.slice(2),
    options: {
      db: { type: "string" },
      schema: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      timeout: { type: "string" },
      "max-receive": { type: "string" },
      token: { type: "string" },
      "read-only": { type: "boolean" },
      "no-dashboard": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  }).values;
} catch (error) {
  fail((error as Error).message);
}
if (flags.help) {
  console.log(USAGE);
  proc.exit(0);
}
const env = proc.env;
const setting = (flag: string, ...names: string[]): string | undefined =>
  (flags[flag] as string | undefined) ??
    names.map((name) => env[name]).find((v) => v !== undefined);

const db = setting("db", "QITE_DB") ?? "qite.db";
const schema = setting("schema", "QITE_SCHEMA");
const token = setting("token", "QITE_TOKEN");
const timeout = setting("timeout", "QITE_TIMEOUT");
const maxReceive = setting("max-receive", "QITE_MAX_RECEIVE");
const readOnly = flags["read-only"] === true || env.QITE_READ_ONLY === "1";
const dashboard = flags["no-dashboard"] !== true && env.QITE_DASHBOARD !== "0";
const guarded = token !== undefined && token !== "";
let postgres: OpenedPostgres | undefined;
if (isPostgresUrl(db)) {
  try {
    postgres = await openPostgres(db);
    await setupPostgres(postgres.sql, schema === undefined ? {} : { schema });
  } catch (error) {
    await postgres?.end();
    fail(`cannot start: ${(error as Error).message}`);
  }
} else if (schema !== undefined) {
  fail("--schema is for a postgres:// database only");
}
const server = await serve({
  db: postgres?.sql ?? db,
  ...(postgres === undefined || schema === undefined ? {} : { schema }),
  port: integer("port", setting("port", "QITE_PORT", "PORT") ?? "8080"),
  hostname: setting("host", "QITE_HOST") ?? "127.0.0.1",
  ...(timeout === undefined ? {} : { timeout: integer("timeout", timeout) }),
  ...(maxReceive === undefined ? {} : { maxReceive: integer("max-receive", maxReceive) }),
  ...(guarded ? { authorize: bearerAuthorizer(token) } : {}),
  dashboard: dashboard && { readOnly, ...(guarded ? { token } : {}) },
  logger: { info: (message, fields) => console.error(`qite: ${message}`, JSON.stringify(fields)) },
}).catch(async (error: Error) => {
  await postgres?.end();
  return fail(`cannot start: ${error.message}`);
});

/** The URL without its password. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.href;
  } catch {
    return "the PostgreSQL database";
  }
}

const sqlite = postgres === undefined ? server.db as Database : undefined;
console.log(
  `qite: serving ${
    sqlite === undefined
      ? `${shown(db)} (${postgres!.driver}, PostgreSQL, schema ${schema ?? "on the search path"})`
      : `${db} (${sqlite.driver}, SQLite ${sqlite.sqliteVersion})`
  } at ${server.url}/queues/{name}` +
    (dashboard ? `, dashboard at ${server.url}/${readOnly ? " (read-only)" : ""}` : ""),
);
onShutdownSignal((signal) => {
  console.log(`qite: ${signal}, shutting down`);
  server.close().then(() => postgres?.end()).then(
    () => {
      console.log("qite: stopped");
      proc.exit(0);
    },
    (error: Error) => {
      console.error(`qite: shutdown failed: ${error.message}`);
      proc.exit(1);
    },
  );
});
