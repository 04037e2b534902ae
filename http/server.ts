/**
 * A standalone queue server: many named queues of one SQLite file, or of one PostgreSQL
 * database, over HTTP.
 *
 * @module
 */

import type { Database, SqliteHandle } from "../src/sqlite/database.ts";
import { listQueues } from "../src/sqlite/list_queues.ts";
import { checkDatabase, Queue, resolveDatabase } from "../src/sqlite/queue.ts";
import { setup } from "../src/sqlite/schema.ts";
import { isPostgresClient, type PostgresClient } from "../src/postgres/_client.ts";
import { listQueues as listPostgresQueues } from "../src/postgres/list_queues.ts";
import { PostgresQueue } from "../src/postgres/queue.ts";
import { checkSchema } from "../src/postgres/schema.ts";
import type { QueueLike } from "../src/queue_like.ts";
import { checkInteger, show } from "../src/_validate.ts";
import { checkDuration } from "../src/_input.ts";
import { listen, type Listener } from "../src/runtime/serve.ts";
import type { FastRoute, FastRoutes } from "../src/runtime/node_listener.ts";
import { goJson } from "./_wire.ts";
import { createDashboard, type DashboardOptions } from "./dashboard.ts";
import { type OperationEvent, Throughput } from "./throughput.ts";
import {
  acceptedType,
  answerHot,
  authorize,
  below,
  failure,
  type Handler,
  type HandlerContext,
  handlerContext,
  handleRequest,
  type HandlerOptions,
  notImplemented,
  type Route,
  text,
  urlOf,
} from "./handler.ts";

/** Options for {@linkcode createRouter}. */
export interface RouterOptions extends HandlerOptions {
  /**
   * The database: a SQLite {@linkcode Database}, a SQLite driver handle, or a file path (given
   * a path, the router opens it, creates the table if needed, and closes it on `close()`); or a
   * PostgreSQL client (a postgres.js `sql` or a Bun.SQL instance), whose `goqite` table must be
   * set up (`setup` of `@qite/qite/postgres`) and which stays open on `close()`.
   */
  db: Database | SqliteHandle | string | PostgresClient;
  /** The PostgreSQL schema of the `goqite` table (PostgreSQL only; default: the search path). */
  schema?: string;
  /**
   * Every queue's visibility timeout, in milliseconds.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * Every queue's maximum receive count.
   *
   * @default {3}
   */
  maxReceive?: number;
  /**
   * Serves the web dashboard (see {@linkcode createDashboard}) at `/` (below `basePath`), beside
   * `/queues` and `/health`, with sparklines of the sends and deletes the router answers. `true` for the
   * defaults, or the dashboard's options. The router's `authorize` guards the queues' routes
   * only: when it is set, the dashboard needs its own `authorize` or `token`, so that turning
   * the dashboard on never opens what `authorize` closes.
   *
   * @default {false}
   */
  dashboard?: boolean | DashboardOptions;
}

/** Serves every queue of one database under `/queues/{name}`. */
export interface Router {
  /** Answers a request. */
  readonly fetch: Handler;
  /** The database: the SQLite {@linkcode Database}, or the PostgreSQL client. */
  readonly db: Database | PostgresClient;
  /** Closes the queues, and the database if the router opened it. */
  close(): void;
  /** Same as `close()`. */
  [Symbol.dispose](): void;
}

/** Queue names the router accepts: letters, digits and `_ . : -`, up to 128 characters. */
const QUEUE_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const ROUTES: ReadonlySet<string> = new Set([
  "",
  "stats",
  "peek",
  "dead",
  "dead/count",
  "dead/redrive",
  "purge",
  "release",
  "bury",
]);
/**
 * Queue objects kept open for reuse. Beyond this many, the one used least recently that serves
 * no request is closed (closing ends a queue's waits, so one that serves a long poll never is).
 */
const MAX_CACHED_QUEUES = 1000;

/**
 * Creates a handler for every queue in one database: goqite's routes and qite's extensions at
 * `/queues/{name}` (see {@linkcode createHandler}), `GET /queues` for the names of the queues
 * that hold messages (those with a name these routes take), and `GET /health`, all below
 * `basePath` when it is given. A queue name is
 * letters, digits and `_ . : -`, at most 128 characters; it is checked, never pasted into SQL.
 *
 * @param options The database, the queues' settings, and the handler's options.
 * @returns The router.
 * @throws {TypeError} If `db` is missing or an option has the wrong type.
 * @throws {RangeError} If a number is out of range.
 * @throws {QueueError} If `db` is a path that cannot be opened or set up.
 *
 * @example Two queues behind one handler
 * ```ts
 * import { createRouter } from "@qite/qite/http";
 * import assert from "node:assert/strict";
 *
 * using router = createRouter({ db: ":memory:" });
 * const body = JSON.stringify({ Message: { Body: btoa("hi") } });
 * await router.fetch(new Request("http://x/queues/emails", { method: "POST", body }));
 * await router.fetch(new Request("http://x/queues/sms", { method: "POST", body }));
 * const response = await router.fetch(new Request("http://x/queues"));
 * assert.deepEqual(await response.json(), { Queues: ["emails", "sms"] });
 * ```
 */
export function createRouter(options: RouterOptions): Router {
  const action = "create router";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${action} as the options must be an object: current value is ${show(options)}`,
    );
  }
  const {
    db: source,
    schema,
    timeout = 5000,
    maxReceive = 3,
    dashboard,
    ...handlerOptions
  } = options;
  checkDuration(action, "timeout", timeout, 1);
  checkInteger(action, "maxReceive", maxReceive, 1);
  const board = dashboardOptions(action, dashboard, handlerOptions);
  checkDatabase(action, source);
  let db: Database | PostgresClient;
  let open: (name: string) => QueueLike;
  let list: () => Promise<string[]>;
  let owned = false;
  if (isPostgresClient(source)) {
    checkSchema(action, schema);
    const sql = source as PostgresClient;
    db = sql;
    open = (name) =>
      new PostgresQueue({
        sql,
        name,
        ...(schema === undefined ? {} : { schema }),
        timeout,
        maxReceive,
      });
    list = () => listPostgresQueues(sql, schema === undefined ? {} : { schema });
  } else {
    if (schema !== undefined) {
      throw new TypeError(
        `Cannot ${action} as 'schema' is for PostgreSQL only: current value is ${show(schema)}`,
      );
    }
    owned = typeof source === "string";
    const sqlite = resolveDatabase(source as Database | SqliteHandle | string);
    if (!owned) setup(sqlite);
    db = sqlite;
    open = (name) => new Queue({ db: sqlite, name, timeout, maxReceive });
    list = () => listQueues(sqlite);
  }
  // Validates the handler options once, with a throwaway queue.
  const placeholder = open("-");
  const template = handlerContext(placeholder, handlerOptions);
  void placeholder.close();
  // The open queues, least recently used first (a use moves its queue to the end), each with
  // the number of requests it is serving.
  const contexts = new Map<string, { context: HandlerContext; serving: number }>();
  const cachedFor = (name: string): { context: HandlerContext; serving: number } => {
    let cached = contexts.get(name);
    if (cached !== undefined) {
      contexts.delete(name);
    } else {
      if (contexts.size >= MAX_CACHED_QUEUES) {
        // When every open queue serves a request, none is closed and the cache grows.
        for (const [oldest, idle] of contexts) {
          if (idle.serving > 0) continue;
          contexts.delete(oldest);
          void idle.context.queue.close();
          break;
        }
      }
      cached = { context: { ...template, queue: open(name) }, serving: 0 };
    }
    contexts.set(name, cached);
    return cached;
  };
  /** Runs `work` with the queue's context, which stays open until `work` settles. */
  const serving = async <T>(
    name: string,
    work: (context: HandlerContext) => Promise<T>,
  ): Promise<T> => {
    const cached = cachedFor(name);
    cached.serving++;
    try {
      return await work(cached.context);
    } finally {
      cached.serving--;
    }
  };
  const serveDashboard = board === undefined ? undefined : createDashboard({
    list,
    queue: (name) => cachedFor(name).context.queue,
    // The dashboard's send form makes no queue that the routes cannot reach.
    accepts: (name) => QUEUE_NAME.test(name),
  }, {
    ...board,
    basePath: template.basePath ?? "",
  });
  const route = async (request: Request): Promise<Response> => {
    const unknown = notImplemented(request.method);
    if (unknown !== undefined) return unknown;
    const pathname = urlOf(request).pathname;
    const segments = segmentsOf(pathname, template.basePath);
    if (segments === undefined) return text(404, `not found: no route at ${pathname}`);
    if (segments[0] === "health" && segments.length === 1) {
      if (request.method === "GET" || request.method === "HEAD") return text(200, "ok");
      return text(405, `method ${request.method} is not allowed here`, { allow: "GET, HEAD" });
    }
    if (segments[0] !== "queues") {
      if (serveDashboard !== undefined) return serveDashboard(request);
      return text(404, "not found: queues live at /queues/{name}");
    }
    if (segments.length === 1) {
      if (request.method !== "GET") {
        return text(405, `method ${request.method} is not allowed here`, { allow: "GET" });
      }
      try {
        const refused = await authorize(template, request);
        if (refused !== undefined) return refused;
        // Only the names its routes reach: a queue the library named otherwise ("a b") is no
        // use to a client of this server.
        const names = (await list()).filter((name) => QUEUE_NAME.test(name));
        return new Response(goJson({ Queues: names }), {
          headers: { "content-type": "application/json" },
        });
      } catch (error) {
        return failure(template, request, error);
      }
    }
    const name = queueNameOf(segments[1]!);
    if (name === undefined) {
      return text(
        400,
        "the queue name must be 1 to 128 letters, digits or _ . : - (as in /queues/emails)",
      );
    }
    const rest = segments.slice(2).join("/");
    if (!ROUTES.has(rest)) return text(404, `not found: no route ${JSON.stringify(rest)}`);
    return serving(name, (context) => handleRequest(context, request, rest as Route));
  };
  const fetch = (request: Request): Promise<Response> =>
    route(request).catch((error) => failure(template, request, error));
  const close = (): void => {
    for (const { context } of contexts.values()) void context.queue.close();
    contexts.clear();
    if (owned) (db as Database).close();
  };
  const router: Router = { fetch, db, close, [Symbol.dispose]: close };
  // goqite's hot routes without `Request` and `Response` (used by serve() on Node): a send, a
  // receive without a query, a delete on /queues/{name}, when no `authorize` hook needs the
  // request. The rest of the checks `route` and `handleRequest` make before those routes' code
  // (a known method, the route, the Content-Type, the size) are the listener's and these.
  if (template.authorize === undefined) {
    FAST.set(router, {
      maxBody: template.maxRequestSize,
      route(method, url, contentType): FastRoute | undefined {
        if (url.search !== "" || !acceptedType(contentType)) return undefined;
        const segments = segmentsOf(url.pathname, template.basePath);
        if (segments?.length !== 2 || segments[0] !== "queues") return undefined;
        const name = queueNameOf(segments[1]!);
        if (name === undefined) return undefined;
        return (body, gone) =>
          serving(name, (context) => answerHot(context, method, url.href, body, gone));
      },
    });
  }
  return router;
}

/** The fast routes of routers that have them (see the end of {@linkcode createRouter}). */
const FAST = new WeakMap<Router, FastRoutes>();

/** The path's segments below `basePath` (`undefined` when it is not below it). */
function segmentsOf(pathname: string, basePath: string | undefined): string[] | undefined {
  const relative = basePath === undefined ? pathname : below(pathname, basePath);
  return relative?.split("/").filter((s) => s !== "");
}

/** The queue name a path segment carries, or `undefined` when it is not a valid one. */
function queueNameOf(segment: string): string | undefined {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  return QUEUE_NAME.test(name) ? name : undefined;
}

/**
 * The dashboard's options for a router, or `undefined` for none; with a dashboard, the handler's
 * `onOperation` also feeds the dashboard's throughput counter.
 */
function dashboardOptions(
  action: string,
  dashboard: RouterOptions["dashboard"],
  handlerOptions: HandlerOptions,
): DashboardOptions | undefined {
  if (dashboard === undefined || dashboard === false) return undefined;
  if (dashboard !== true && (typeof dashboard !== "object" || dashboard === null)) {
    throw new TypeError(
      `Cannot ${action} as 'dashboard' must be a boolean or the dashboard's options: current value is ${
        show(dashboard)
      }`,
    );
  }
  const options: DashboardOptions = dashboard === true ? {} : { ...dashboard };
  if (
    handlerOptions.authorize !== undefined && options.authorize === undefined &&
    options.token === undefined
  ) {
    throw new TypeError(
      `Cannot ${action} as the dashboard would be open while 'authorize' guards the queues: ` +
        "give the dashboard its own 'authorize' or 'token'",
    );
  }
  const throughput = options.throughput ??= new Throughput();
  const user = handlerOptions.onOperation;
  if (user === undefined) handlerOptions.onOperation = throughput.record;
  else if (typeof user === "function") {
    handlerOptions.onOperation = (event: OperationEvent): void => {
      throughput.record(event);
      user(event);
    };
  }
  if (options.logger === undefined && handlerOptions.logger !== undefined) {
    options.logger = handlerOptions.logger;
  }
  return options;
}

/** Options for {@linkcode serve}. */
export interface ServeOptions extends Omit<RouterOptions, "signal"> {
  /**
   * The TCP port; 0 picks a free one.
   *
   * @default {8080}
   */
  port?: number;
  /**
   * The interface to listen on; `"0.0.0.0"` listens on every interface.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
}

/** A running queue server. */
export interface Server {
  /** The base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The database it serves: the SQLite {@linkcode Database}, or the PostgreSQL client. */
  readonly db: Database | PostgresClient;
  /**
   * Shuts down gracefully: stops accepting connections, ends long polls (with 204, handing
   * nothing out), waits for the requests in flight, then closes the database if it opened it.
   */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Serves {@linkcode createRouter}'s routes over HTTP with the runtime's own server (`Deno.serve`,
 * `Bun.serve` or `node:http`). On Node, without an `authorize` hook, goqite's hot routes (a send,
 * a receive without a query and a delete on `/queues/{name}`, with a Content-Length body) are
 * answered without building a `Request` and a `Response`, which on Node cost more than the
 * queue's work; the answers are the same.
 *
 * @param options Where to listen, the database, and the router's options.
 * @returns The running server, once it listens.
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If a number is out of range.
 * @throws {QueueError} If the database cannot be opened or set up.
 *
 * @example A server on a free port
 * ```ts
 * import { serve } from "@qite/qite/http";
 * import assert from "node:assert/strict";
 *
 * await using server = await serve({ db: ":memory:", port: 0 });
 * const response = await fetch(`${server.url}/queues/emails`, {
 *   method: "POST",
 *   body: JSON.stringify({ Message: { Body: btoa("hello") } }),
 * });
 * assert.equal(response.status, 200);
 * ```
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const { port = 8080, hostname = "127.0.0.1", ...routerOptions } = options ?? {};
  checkInteger("serve", "port", port, 0, 65535);
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(
      `Cannot serve as 'hostname' must be a non-empty string: current value is ${show(hostname)}`,
    );
  }
  const shutdown = new AbortController();
  const router = createRouter({ ...routerOptions, signal: shutdown.signal });
  let listener: Listener;
  try {
    const fast = FAST.get(router);
    listener = await listen({
      port,
      hostname,
      fetch: router.fetch,
      ...(fast === undefined ? {} : { fast }),
    });
  } catch (error) {
    router.close();
    throw error;
  }
  const host = listener.hostname.includes(":") ? `[${listener.hostname}]` : listener.hostname;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    closing ??= (async () => {
      shutdown.abort();
      try {
        await listener.close();
      } finally {
        router.close();
      }
    })();
  return {
    url: `http://${host}:${listener.port}`,
    port: listener.port,
    db: router.db,
    close,
    [Symbol.asyncDispose]: close,
  };
}
