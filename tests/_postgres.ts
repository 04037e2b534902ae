/**
 * PostgreSQL for tests: the server (`QITE_PG_URL`, by default the local one CI starts), clients
 * of every kind this runtime offers (postgres.js everywhere, and Bun.sql on Bun), and a fresh
 * schema per test case, dropped afterwards.
 *
 * @module
 */

import postgres from "postgres";
import { type PostgresQueue, setup } from "../postgres/mod.ts";
import type { PostgresClient, PostgresDriverName } from "../postgres/mod.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import assert from "node:assert/strict";
import { sleep, text } from "./_helpers.ts";

/** The server the tests use. */
export const PG_URL: string =
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .QITE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A client whose `end` the tests call, whatever its kind. */
export interface TestClient {
  readonly sql: PostgresClient;
  /** Runs SQL without parameters, for checks and set-up. */
  exec(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  end(): Promise<void>;
}

interface Unsafe {
  unsafe(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

/** Options for {@linkcode openClient}. */
export interface ClientOptions {
  /** The most connections of the pool. */
  max?: number;
  /** A server setting for every connection, e.g. `default_transaction_isolation`. */
  connection?: Record<string, string>;
  /** The `application_name` of its connections, to find them in `pg_stat_activity`. */
  name?: string;
}

/** Opens a client of the given kind on the test server. */
export function openClient(driver: PostgresDriverName, options: ClientOptions = {}): TestClient {
  const { max = 4, name } = options;
  const connection = name === undefined
    ? options.connection
    : { ...options.connection, application_name: name };
  if (driver === "Bun.sql") {
    const Bun = (globalThis as unknown as {
      Bun: { SQL: new (url: string, options: object) => Unsafe & { close(): Promise<void> } };
    }).Bun;
    let url = PG_URL;
    if (connection !== undefined) {
      const params = Object.entries(connection).map(([key, value]) => `-c ${key}=${value}`);
      url += `${url.includes("?") ? "&" : "?"}options=${encodeURIComponent(params.join(" "))}`;
    }
    const sql = new Bun.SQL(url, { max });
    return {
      sql,
      exec: (text, params = []) => sql.unsafe(text, params),
      end: () => sql.close(),
    };
  }
  const sql = postgres(PG_URL, {
    max,
    onnotice: () => {},
    // postgres.js 3.4 leaves a rejection unhandled (which ends the process) when the server ends
    // a connection while it fetches array types right after connecting; qite needs none.
    fetch_types: false,
    ...(connection === undefined ? {} : { connection }),
  });
  return {
    sql,
    exec: (text, params = []) =>
      sql.unsafe(text, params as never[]) as unknown as Promise<Record<string, unknown>[]>,
    end: () => sql.end({ timeout: 1 }),
  };
}

/** The clients this runtime offers for testing. */
export function testClients(): PostgresDriverName[] {
  return detectRuntime() === "bun" ? ["Bun.sql", "postgres.js"] : ["postgres.js"];
}

let schemas = 0;

/** A schema name no other test (or process) uses. */
export function uniqueSchema(): string {
  const random = crypto.getRandomValues(new Uint8Array(4));
  return `qite_test_${
    Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")
  }_${schemas++}`;
}

/** A set-up schema for one test, and the clients opened on it; `close` drops it. */
export class TestDatabase {
  readonly driver: PostgresDriverName;
  readonly schema: string = uniqueSchema();
  readonly admin: TestClient;
  #clients: TestClient[] = [];

  constructor(driver: PostgresDriverName) {
    this.driver = driver;
    // Unqualified names in the tests' own SQL (`goqite`) mean this test's table.
    this.admin = openClient("postgres.js", {
      max: 2,
      connection: { search_path: `"${this.schema}"` },
    });
  }

  /** Creates the schema and the table. */
  async setup(): Promise<void> {
    await setup(this.admin.sql, { schema: this.schema });
  }

  /**
   * Opens another client of the test's kind (as another process would have), ended by `close`.
   * Its connections are named after the schema (see {@linkcode TestDatabase.terminate}).
   */
  client(options?: ClientOptions): TestClient {
    const client = openClient(this.driver, { name: this.schema, ...options });
    this.#clients.push(client);
    return client;
  }

  /** How many rows the schema's `goqite` table holds. */
  async count(): Promise<number> {
    const [row] = await this.admin.exec("select count(*)::int4 as n from goqite");
    return Number(row?.n);
  }

  /**
   * Ends, from the server, the connections of this test's clients that `only` matches (all of
   * them by default); returns how many.
   */
  async terminate(only = "true"): Promise<number> {
    const rows = await this.admin.exec(
      `select count(pg_terminate_backend(pid))::int4 as n from pg_stat_activity
       where application_name = $1 and (${only})`,
      [this.schema],
    );
    return Number(rows[0]?.n);
  }

  /**
   * The queries of this test's listening connections (`LISTEN …`), once there is at least one:
   * a client opens its subscription at its first wait, after connecting and looking its channel
   * up. Throws if none opens within `ms`.
   */
  async listening(ms = 10_000): Promise<string[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const rows = await this.admin.exec(
        `select query from pg_stat_activity
         where application_name = $1 and query ilike 'listen%'`,
        [this.schema],
      );
      if (rows.length > 0) return rows.map((row) => String(row.query));
      if (Date.now() > deadline) throw new Error(`no listening connection within ${ms} ms`);
      await sleep(20);
    }
  }

  /** Ends the clients and drops the schema. */
  async close(): Promise<void> {
    for (const client of this.#clients) await client.end();
    try {
      await this.admin.exec(`drop schema if exists "${this.schema}" cascade`);
    } finally {
      await this.admin.end();
    }
  }
}

/** How {@linkcode wakeLatencies} measures. */
export interface WakeRounds {
  /** How many messages are sent, one at a time. */
  readonly rounds: number;
  /** Round r's send comes `20 + r * spacing` ms after its waiter started waiting. */
  readonly spacing: number;
  /** The waiter's polling interval, in ms (longer than a wake-up by NOTIFY should take). */
  readonly interval: number;
  /** How long a waiter may wait, in ms. */
  readonly timeout: number;
}

/**
 * The times from a send on `sender` to its receipt by a `receiveAndWait` on `waiter`, in ms,
 * shortest first: each round a waiter waits, and the send comes at a different moment of the
 * heartbeat.
 */
export async function wakeLatencies(
  waiter: PostgresQueue,
  sender: PostgresQueue,
  { rounds, spacing, interval, timeout }: WakeRounds,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const waiting = waiter.receiveAndWait({ interval, signal: AbortSignal.timeout(timeout) });
    await sleep(20 + round * spacing);
    const started = performance.now();
    await sender.send({ body: `wake ${round}` });
    const message = await waiting;
    latencies.push(performance.now() - started);
    assert.equal(text(message.body), `wake ${round}`);
    await waiter.delete(message);
  }
  return latencies.sort((a, b) => a - b);
}
