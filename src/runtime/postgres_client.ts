/**
 * Opening a PostgreSQL client from a URL, for the command line only: the library itself never
 * opens one (bring your own). Bun has one built in (`Bun.SQL`); on Deno and Node the npm package
 * `postgres` (postgres.js) must be installed, and is imported only when this runs.
 *
 * @module
 */

import { detectRuntime } from "./detect.ts";

/** An opened client and how to end it. */
export interface OpenedPostgres {
  /** The client, for `PostgresQueue` and `setup`. */
  readonly sql: object;
  /** `"Bun.sql"` or `"postgres.js"`. */
  readonly driver: string;
  /** Ends its connections. */
  end(): Promise<void>;
}

/** Whether `value` is a PostgreSQL connection URL. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/**
 * Opens a client on `url`: Bun.SQL on Bun, postgres.js elsewhere.
 *
 * @param url A `postgres://` URL.
 * @throws {Error} If postgres.js is needed and not installed.
 */
export async function openPostgres(url: string): Promise<OpenedPostgres> {
  const bun = (globalThis as { Bun?: { SQL: new (url: string) => object } }).Bun;
  if (bun !== undefined) {
    const sql = new bun.SQL(url) as { close(): Promise<void> };
    return { sql, driver: "Bun.sql", end: () => sql.close() };
  }
  // Not a literal, so that nothing resolves it before it is needed.
  const specifier = detectRuntime() === "deno" ? "npm:postgres@3" : "postgres";
  let postgres: (url: string, options: object) => { end(options?: object): Promise<void> };
  try {
    postgres = (await import(specifier)).default;
  } catch (error) {
    throw new Error(
      `PostgreSQL needs the npm package "postgres" (postgres.js) on this runtime: install it ` +
        `next to qite (npm install postgres): ${(error as Error).message}`,
    );
  }
  // fetch_types: qite binds arrays as text; and postgres.js 3.4 lets a rejection go unhandled
  // when the server ends a connection while it fetches them.
  const sql = postgres(url, { onnotice: () => {}, fetch_types: false });
  return { sql, driver: "postgres.js", end: () => sql.end({ timeout: 5 }) };
}
