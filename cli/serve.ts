/**
 * `qite serve`: every queue of one SQLite file, or of one PostgreSQL database, over HTTP in
 * goqite's wire format, and the web dashboard at `/`. It is also what `qite` does when it is
 * given flags and no command.
 *
 * @module
 */

// deno-lint-ignore-file no-console
import process from "node:process";
import { onShutdownSignal } from "../src/runtime/serve.ts";
import {
  isPostgresUrl,
  type OpenedPostgres,
  openPostgres,
} from "../src/runtime/postgres_client.ts";
import { setup as setupPostgres } from "../src/postgres/schema.ts";
import type { Database } from "../src/sqlite/database.ts";
import { bearerAuthorizer } from "../http/_bearer.ts";
import { serve as serveHttp } from "../http/server.ts";
import { setting, UsageError, wholeNumber } from "./args.ts";
import type { Command } from "./command.ts";
import { isHttpUrl, withoutPassword } from "./target.ts";

/** `qite serve`. */
export const serve: Command = {
  name: "serve",
  args: "",
  summary: "serves every queue over HTTP, with the dashboard (the default command)",
  about: "Serves every queue of one SQLite file (created if missing) or one PostgreSQL database\n" +
    "(the table created if missing) at /queues/{name}, in goqite's wire format, with the web\n" +
    "dashboard at /. On SIGINT or SIGTERM it stops accepting connections, ends long polls,\n" +
    "answers the requests in flight, closes the database and exits with status 0; it waits\n" +
    "at most --shutdown-grace for requests whose clients are still sending them, and a second\n" +
    "signal ends the wait at once. PostgreSQL needs Bun (Bun.sql) or the npm package postgres\n" +
    "installed.",
  flags: {
    db: { type: "string" },
    schema: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    timeout: { type: "string" },
    "max-receive": { type: "string" },
    token: { type: "string" },
    "read-only": { type: "boolean" },
    "no-dashboard": { type: "boolean" },
    "shutdown-grace": { type: "string" },
  },
  flagHelp: [
    ["--db PATH|URL", "the SQLite file, or a postgres:// URL [QITE_DB] (qite.db)"],
    ["--schema NAME", "the PostgreSQL schema of the goqite table [QITE_SCHEMA] (the search path)"],
    ["--port N", "the TCP port, 0 for any free one [QITE_PORT or PORT] (8080)"],
    ["--host NAME", "the interface; 0.0.0.0 for every one [QITE_HOST] (127.0.0.1)"],
    ["--timeout MS", "every queue's visibility timeout [QITE_TIMEOUT] (5000)"],
    ["--max-receive N", "every queue's maximum receive count [QITE_MAX_RECEIVE] (3)"],
    ["--token SECRET", 'requires "Authorization: Bearer SECRET" on /queues [QITE_TOKEN]'],
    ["--read-only", "the dashboard shows but takes no action [QITE_READ_ONLY=1 or true]"],
    ["--no-dashboard", "serves no dashboard [QITE_DASHBOARD=0 or false]"],
    [
      "--shutdown-grace MS",
      "on a signal, how long to wait for requests still arriving [QITE_SHUTDOWN_GRACE] (10000)",
    ],
  ],
  run: async ({ values, positionals, env }) => {
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, "serve");
    }
    const db = setting(values, "db", env, "QITE_DB") ?? "qite.db";
    const schema = setting(values, "schema", env, "QITE_SCHEMA");
    const token = setting(values, "token", env, "QITE_TOKEN");
    const timeout = setting(values, "timeout", env, "QITE_TIMEOUT");
    const maxReceive = setting(values, "max-receive", env, "QITE_MAX_RECEIVE");
    const port = wholeNumber(
      "serve",
      "port",
      setting(values, "port", env, "QITE_PORT", "PORT") ?? "8080",
      0,
      65535,
    );
    const grace = wholeNumber(
      "serve",
      "shutdown-grace",
      setting(values, "shutdown-grace", env, "QITE_SHUTDOWN_GRACE") ?? "10000",
      0,
      2 ** 31 - 1,
    );
    const readOnly = values["read-only"] === true || switchSetting(env, "QITE_READ_ONLY") === true;
    const dashboard = values["no-dashboard"] !== true &&
      switchSetting(env, "QITE_DASHBOARD") !== false;
    if (token === "") {
      // `--token "$SECRET"` with the variable unset would otherwise serve without a token.
      throw new UsageError(
        "the token is empty: give one with --token or QITE_TOKEN, or neither to serve without one",
        "serve",
      );
    }
    const guarded = token !== undefined;
    if (isHttpUrl(db)) {
      throw new UsageError("serve needs a SQLite file or a postgres:// URL, not a server", "serve");
    }
    if (schema !== undefined && !isPostgresUrl(db)) {
      throw new UsageError("--schema is for a postgres:// database only", "serve");
    }
    const options = {
      ...(timeout === undefined ? {} : { timeout: wholeNumber("serve", "timeout", timeout, 1) }),
      ...(maxReceive === undefined
        ? {}
        : { maxReceive: wholeNumber("serve", "max-receive", maxReceive, 1) }),
    };
    let postgres: OpenedPostgres | undefined;
    if (isPostgresUrl(db)) {
      try {
        postgres = await openPostgres(db);
        await setupPostgres(postgres.sql, schema === undefined ? {} : { schema });
      } catch (error) {
        await postgres?.end();
        throw new Error(`cannot start: ${(error as Error).message}`);
      }
    }
    const server = await serveHttp({
      db: postgres?.sql ?? db,
      ...(postgres === undefined || schema === undefined ? {} : { schema }),
      port,
      hostname: setting(values, "host", env, "QITE_HOST") ?? "127.0.0.1",
      ...options,
      ...(guarded ? { authorize: bearerAuthorizer(token) } : {}),
      dashboard: dashboard && { readOnly, ...(guarded ? { token } : {}) },
      logger: {
        info: (message, fields) => console.error(`qite: ${message}`, JSON.stringify(fields)),
      },
    }).catch(async (error: Error) => {
      await postgres?.end();
      throw new Error(`cannot start: ${error.message}`);
    });
    const sqlite = postgres === undefined ? server.db as Database : undefined;
    console.log(
      `qite: serving ${
        sqlite === undefined
          ? `${withoutPassword(db)} (${postgres!.driver}, PostgreSQL, schema ${
            schema ?? "on the search path"
          })`
          : `${db} (${sqlite.driver}, SQLite ${sqlite.sqliteVersion})`
      } at ${server.url}/queues/{name}` +
        (dashboard ? `, dashboard at ${server.url}/${readOnly ? " (read-only)" : ""}` : ""),
    );
    let stopping = false;
    const failed = (error: Error): void => {
      console.error(`qite: shutdown failed: ${error.message}`);
      process.exit(1);
    };
    const stop = (note: string): void => {
      // The database is closed (its log checkpointed) however the wait ended; closing twice is
      // nothing.
      sqlite?.close();
      void Promise.resolve(postgres?.end()).then(() => {
        console.log(`qite: stopped${note}`);
        process.exit(0);
      }, failed);
    };
    onShutdownSignal((signal) => {
      if (stopping) {
        console.log(`qite: ${signal} again, stopping now`);
        stop(", without waiting for requests still arriving");
        return;
      }
      stopping = true;
      console.log(`qite: ${signal}, shutting down`);
      // A client that has sent half a request would keep the server waiting for the rest.
      const timer = setTimeout(
        () => stop(`, after waiting ${grace} ms for requests still arriving`),
        grace,
      );
      server.close().then(() => {
        clearTimeout(timer);
        stop("");
      }, failed);
    });
    return undefined;
  },
};

/**
 * An on/off environment variable: `undefined` when it is unset or empty, else true for 1, true,
 * yes or on and false for 0, false, no or off (any case); anything else is a usage error, not
 * silently the default.
 */
function switchSetting(env: Record<string, string | undefined>, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === "") return undefined;
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw new UsageError(
    `${name} must be 1, true, yes or on, or 0, false, no or off: current value is ${
      JSON.stringify(env[name])
    }`,
    "serve",
  );
}
