/**
 * The one place where PostgreSQL clients differ: postgres.js (the npm package `postgres`, on
 * Deno, Bun and Node) and Bun's built-in `Bun.sql` / `new Bun.SQL()`. qite imports neither; it
 * recognises the object it is handed by its shape, as the SQLite engine does with its drivers.
 *
 * Both run statements with `unsafe(text, params)` (prepared: postgres.js is told so, Bun
 * prepares by default), return an array of rows with a `count`, open transactions with
 * `begin(mode, fn)` and subscribe with `listen(channel, fn)`. Parameters are always strings,
 * numbers, bytes or null, cast in the SQL (`$2::text[]`), so neither client's type inference
 * matters; results use only `text`, `bytea`, `int4` and `float8` columns, which both read the
 * same way (bytes come back as a Node `Buffer`, turned here into a plain `Uint8Array` view).
 *
 * @module
 */

/** A PostgreSQL client qite recognises: a postgres.js `sql` or a `Bun.SQL` instance. */
export type PostgresClient = object;

/** The clients qite speaks. */
export type PostgresDriverName = "postgres.js" | "Bun.sql";

/** A value qite binds. */
export type PgValue = string | number | Uint8Array | null;

/** A result row. */
export type PgRow = Record<string, unknown>;

/** Something statements run on: the pool, or a transaction (qite's or the caller's). */
export interface PgRunner {
  /** Runs one statement; returns its rows. */
  query(text: string, params: readonly PgValue[]): Promise<PgRow[]>;
}

/** What qite hands a notification listener. */
export interface PgSubscription {
  /** Stops listening; never rejects. */
  unlisten(): Promise<void>;
}

/** A client, normalised. */
export interface PgDriver extends PgRunner {
  /** Which client this is. */
  readonly name: PostgresDriverName;
  /** The client as it was handed in. */
  readonly native: PostgresClient;
  /** Runs `fn` inside `begin isolation level read committed`, committing when it resolves. */
  transaction<T>(fn: (tx: PgRunner) => Promise<T>): Promise<T>;
  /**
   * Listens on `channel`: `onPayload` gets each notification's payload, `onListen` is called
   * each time the subscription is (re)established. Absent when the client cannot listen.
   */
  listen?: (
    channel: string,
    onPayload: (payload: string) => void,
    onListen: () => void,
  ) => Promise<PgSubscription>;
}

type Unsafe = (text: string, params?: unknown[], options?: object) => PromiseLike<unknown>;

interface ClientShape {
  unsafe?: unknown;
  begin?: unknown;
  listen?: unknown;
  savepoint?: unknown;
  beginDistributed?: unknown;
  PostgresError?: unknown;
  options?: { adapter?: unknown };
}

function shape(value: unknown): ClientShape | undefined {
  return (typeof value === "function" || (typeof value === "object" && value !== null))
    ? value as ClientShape
    : undefined;
}

/** Whether `value` is a Bun.SQL instance (pool, reserved connection or transaction). */
function isBun(value: ClientShape): boolean {
  return typeof value.unsafe === "function" && typeof value.beginDistributed === "function";
}

/** Whether `value` is a postgres.js `sql` (the pool, not a transaction). */
function isPostgresJs(value: ClientShape): boolean {
  return typeof value.unsafe === "function" && typeof value.begin === "function" &&
    typeof value.PostgresError === "function";
}

/**
 * Whether `value` looks like a PostgreSQL client qite can use (for callers that accept either
 * engine's connection, such as the HTTP router).
 *
 * @param value Anything.
 */
export function isPostgresClient(value: unknown): boolean {
  const client = shape(value);
  if (client === undefined) return false;
  if (isBun(client)) {
    return client.options?.adapter === undefined ||
      client.options.adapter === "postgres";
  }
  return isPostgresJs(client);
}

/** A plain `Uint8Array` view of a `Buffer` (tests compare bodies with `Uint8Array`s). */
function plainBytes(value: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(value) === Uint8Array.prototype
    ? value
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** Turns `Buffer`s in a row into plain `Uint8Array`s. */
function normaliseRows(rows: unknown): PgRow[] {
  const list = rows as PgRow[];
  for (const row of list) {
    for (const key in row) {
      const value = row[key];
      if (value instanceof Uint8Array) row[key] = plainBytes(value);
    }
  }
  return list;
}

function runner(client: ClientShape, prepare: boolean): PgRunner {
  const unsafe = (client.unsafe as Unsafe).bind(client);
  const options = prepare ? { prepare: true } : undefined;
  return {
    query: async (text, params) =>
      normaliseRows(await unsafe(text, params as unknown[], options as object)),
  };
}

type Begin = (mode: string, fn: (tx: unknown) => Promise<unknown>) => Promise<unknown>;
type Listen = (
  channel: string,
  fn: (payload: string) => void,
  onListen?: () => void,
) => Promise<{ unlisten(): unknown }>;

/**
 * Wraps a client handed to qite.
 *
 * @param value A postgres.js `sql` or a Bun.SQL instance.
 * @param action What qite was doing, for the error message.
 * @throws {TypeError} If it is neither (a transaction is refused too: hand it to `with`).
 */
export function wrapClient(value: unknown, action: string): PgDriver {
  const client = shape(value);
  if (client !== undefined && (isBun(client) || isPostgresJs(client))) {
    if (typeof client.savepoint === "function") {
      throw new TypeError(
        `Cannot ${action} as 'sql' must be a client, not a transaction: hand a transaction to ` +
          "queue.with(tx)",
      );
    }
    const bun = isBun(client);
    if (bun && client.options?.adapter !== undefined && client.options.adapter !== "postgres") {
      throw new TypeError(
        `Cannot ${action} as 'sql' must be a PostgreSQL client: current value is a Bun.SQL ` +
          `client for ${String(client.options.adapter)}`,
      );
    }
    const base = runner(client, !bun);
    const begin = (client.begin as Begin).bind(client);
    const listen = typeof client.listen === "function"
      ? (client.listen as Listen).bind(client)
      : undefined;
    const driver: PgDriver = {
      name: bun ? "Bun.sql" : "postgres.js",
      native: client as PostgresClient,
      query: base.query,
      transaction: <T>(fn: (tx: PgRunner) => Promise<T>): Promise<T> =>
        begin(
          "isolation level read committed",
          (tx) => fn(runner(tx as ClientShape, !bun)),
        ) as Promise<T>,
      ...(listen === undefined ? {} : {
        listen: async (channel, onPayload, onListen) => {
          const subscription = bun
            ? await listen(channel, onPayload)
            : await listen(channel, onPayload, onListen);
          if (bun) onListen(); // Bun.sql takes no such callback: it listens once this resolves.
          return {
            unlisten: async () => {
              try {
                await subscription.unlisten();
              } catch {
                // The connection is gone: so is the subscription.
              }
            },
          };
        },
      }),
    };
    return driver;
  }
  if (client !== undefined && typeof client.unsafe === "function") {
    throw new TypeError(
      `Cannot ${action} as 'sql' must be a client, not a transaction or reserved connection: ` +
        "hand a transaction to queue.with(tx)",
    );
  }
  throw new TypeError(
    `Cannot ${action} as 'sql' must be a postgres.js sql or a Bun.SQL client: current value is ${
      describe(value)
    }`,
  );
}

/**
 * Wraps a transaction (or reserved connection) of either client, for statements the caller's
 * transaction runs.
 *
 * @param value What `sql.begin(tx => …)` handed the caller.
 * @param action What qite was doing, for the error message.
 * @throws {TypeError} If it has no `unsafe` method.
 */
export function wrapTransaction(value: unknown, action: string): PgRunner {
  const client = shape(value);
  if (client === undefined || typeof client.unsafe !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'tx' must be a transaction of a postgres.js or Bun.SQL client: ` +
        `current value is ${describe(value)}`,
    );
  }
  // The client itself (a pool) has `begin` but neither a transaction's `savepoint` nor a
  // reserved connection's `release`: its statements would run outside any transaction.
  const has = (name: string): boolean =>
    typeof (client as Record<string, unknown>)[name] === "function";
  if (has("begin") && !has("savepoint") && !has("release")) {
    throw new TypeError(
      `Cannot ${action} as 'tx' must be a transaction (what sql.begin hands its function), ` +
        "not the client itself",
    );
  }
  return runner(client, !isBun(client));
}

function describe(value: unknown): string {
  if (typeof value === "function") return "a function";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object" && value !== null) {
    return `an object with keys ${JSON.stringify(Object.keys(value).slice(0, 8))}`;
  }
  return String(value);
}
