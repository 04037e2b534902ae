/**
 * The HTTP handler: goqite's wire format as a Web-standard `(Request) => Promise<Response>`.
 *
 * @module
 */

import { crossSiteReason } from "./_cross_site.ts";
import { QueueError } from "../src/errors.ts";
// An answer before it becomes a `Response`: what the Web-standard handler turns into one, and
// what the Node listener's fast path for goqite's hot routes writes to `node:http` directly.
import type { FastAnswer as Answer, FastMethod } from "../src/runtime/node_listener.ts";
import { concatBytes } from "../src/_bytes.ts";
import { describeError, log, type Logger } from "../src/logger.ts";
import type { Message, MessageId, MessageInfo, Receipt, SendMessage } from "../src/message.ts";
import type { PeekState, QueueLike } from "../src/queue_like.ts";
import { MAX_DURATION_MS } from "../src/_time.ts";
import { checkInteger, checkSignal, show } from "../src/_validate.ts";
import { parseGoDuration, parseGoQuery } from "./_duration.ts";
import type { Operation, OperationEvent } from "./throughput.ts";
import {
  decodeRequest,
  encodeBase64,
  excerpt,
  falseMessageError,
  goJson,
  WireError,
  type WireMessage,
  type WireRequest,
} from "./_wire.ts";

/** Options for {@linkcode createHandler}. */
export interface HandlerOptions {
  /**
   * The largest message body, in bytes (after base64 decoding), that POST accepts; larger ones
   * get 413.
   *
   * @default {1048576}
   */
  maxBodySize?: number;
  /**
   * The largest request body, in bytes; a larger one gets 413 before it is read whole. By
   * default, room for one message of `maxBodySize` in base64 plus 64 KiB of JSON.
   *
   * @default {4 * Math.ceil(maxBodySize / 3) + 65536}
   */
  maxRequestSize?: number;
  /**
   * The most messages one batch request may send, receive, extend or delete. A receive, peek or
   * dead listing asking for more (`max`, `limit`) gets at most this many; a batch body holding
   * more is refused with 400.
   *
   * @default {1000}
   */
  maxBatchSize?: number;
  /**
   * Decides whether a request may touch the queue, before anything is read: `true` lets it
   * through, `false` answers 403, and a `Response` (say, a 401 with `WWW-Authenticate`) is sent
   * as it is. Whatever it throws (a `TypeError` too) is logged and answered with 500, without
   * its message.
   */
  authorize?: (request: Request) => boolean | Response | Promise<boolean | Response>;
  /** Where causes of 5xx answers are logged; silent by default. */
  logger?: Logger;
  /**
   * Told after each send, receive and delete that succeeded, with the queue, the operation and
   * how many messages (sent, received, or deleted that applied): a counter hook for metrics,
   * such as {@linkcode Throughput}'s `record`. It runs before the answer is sent and must be
   * quick; what it throws is logged and otherwise ignored.
   */
  onOperation?: (event: OperationEvent) => void;
  /**
   * Ends every long poll at once (with 204) when it aborts, for a graceful shutdown.
   */
  signal?: AbortSignal;
  /**
   * The path the handler is mounted at, such as `"/queues/emails"` (or `"/"` for a router that
   * strips its prefix, like Hono's `mount`). Routes are then matched below it exactly
   * (`/queues/emails/stats`), and any other path gets 404. Without it, the route is read from
   * the last segments of the path, so a mount path that itself ends in a route name (`/stats`,
   * `/x/dead`) needs `basePath`.
   */
  basePath?: string;
}

/** A Web-standard request handler. */
export type Handler = (request: Request) => Promise<Response>;

/** The handler's routes below its mount point (`""` is goqite's own route). */
export type Route =
  | ""
  | "stats"
  | "peek"
  | "dead"
  | "dead/count"
  | "dead/redrive"
  | "purge"
  | "release"
  | "bury";

const ALLOWED: Readonly<Record<Route, readonly string[]>> = {
  "": ["GET", "POST", "PUT", "DELETE"],
  stats: ["GET"],
  peek: ["GET"],
  dead: ["GET", "DELETE"],
  "dead/count": ["GET"],
  "dead/redrive": ["POST"],
  purge: ["POST"],
  release: ["POST"],
  bury: ["POST"],
};

/**
 * Methods the handler knows: one a route does not take gets 405 with `Allow`; any other method
 * (`TRACE`, `PROPFIND`, `FOO`, and lower-case spellings, since methods are case-sensitive) gets
 * 501, as Node's HTTP parser refuses most of them before any handler runs.
 */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
]);

/** The longest long poll goqite allows, in nanoseconds. */
const MAX_WAIT_NS = 20_000_000_000n;
const DEFAULT_INTERVAL_NS = 100_000_000n;
const NS_PER_MS = 1_000_000n;
const JSON_HEADERS = { "content-type": "application/json" };
const ACCEPTED_TYPES =
  /^(application\/([\w.+-]+\+)?json|text\/plain|application\/x-www-form-urlencoded)$/;

/** A handler's settings, validated, with the queue. */
export interface HandlerContext {
  readonly queue: QueueLike;
  readonly maxBodySize: number;
  readonly maxRequestSize: number;
  readonly maxBatchSize: number;
  readonly authorize: HandlerOptions["authorize"];
  readonly logger: Logger | undefined;
  readonly signal: AbortSignal | undefined;
  /** The mount path, percent-encoded, without a trailing slash (`""` for the root). */
  readonly basePath: string | undefined;
  readonly onOperation: HandlerOptions["onOperation"];
}

/**
 * Validates handler options.
 *
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If a number is out of range.
 */
export function handlerContext(queue: QueueLike, options: HandlerOptions): HandlerContext {
  const action = "create handler";
  if (typeof queue !== "object" || queue === null || typeof queue.receive !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'queue' must be a queue (a QueueLike): current value is ${show(queue)}`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${action} as the options must be an object: current value is ${show(options)}`,
    );
  }
  const {
    maxBodySize = 1024 * 1024,
    maxBatchSize = 1000,
    authorize,
    logger,
    signal,
    onOperation,
  } = options;
  checkInteger(action, "maxBodySize", maxBodySize, 0, 1_000_000_000);
  const { maxRequestSize = 4 * Math.ceil(maxBodySize / 3) + 65536 } = options;
  checkInteger(action, "maxRequestSize", maxRequestSize, 1);
  checkInteger(action, "maxBatchSize", maxBatchSize, 1);
  const hooks = [["authorize", authorize], ["logger", logger?.info], [
    "onOperation",
    onOperation,
  ]] as const;
  for (const [name, value] of hooks) {
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(
        `Cannot ${action} as '${name}' must be a function: current value is ${show(value)}`,
      );
    }
  }
  checkSignal(action, signal);
  const basePath = options.basePath === undefined
    ? undefined
    : normalizeBasePath(action, options.basePath);
  return {
    queue,
    maxBodySize,
    maxRequestSize,
    maxBatchSize,
    authorize,
    logger,
    signal,
    basePath,
    onOperation,
  };
}

/**
 * Checks a mount path and returns it percent-encoded as request URLs carry it, without the
 * trailing slash.
 *
 * @throws {TypeError} If it is not a string that starts with `/`.
 */
export function normalizeBasePath(action: string, value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/") || /[?#]/.test(value)) {
    throw new TypeError(
      `Cannot ${action} as 'basePath' must be a path that starts with "/": current value is ${
        show(value)
      }`,
    );
  }
  return new URL(value, "http://localhost").pathname.replace(/\/+$/, "");
}

/**
 * The part of `pathname` below `basePath`, without slashes at either end; `undefined` when the
 * path is not below it.
 */
export function below(pathname: string, basePath: string): string | undefined {
  if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return undefined;
  return pathname.slice(basePath.length).split("/").filter((s) => s !== "").join("/");
}

/**
 * Creates an HTTP handler for a queue that speaks goqite's wire format: `GET` receives (with
 * `?timeout=` for a long poll, up to 20 s), `POST` sends, `PUT` extends, `DELETE` deletes, with
 * goqite's JSON (`{"Message":{"ID","Body","Delay","Priority"}}`, base64 bodies, nanosecond
 * delays). Beyond goqite: batches (`Messages` instead of `Message`, `?max=` on GET), fenced
 * extend and delete (`Delivery`), and the sub-paths `stats`, `peek`, `dead`, `dead/count`,
 * `dead/redrive` and `purge` below the mount point. See the module documentation for the whole
 * contract.
 *
 * It is a plain `(request: Request) => Promise<Response>`, so it mounts in `Deno.serve`,
 * `Bun.serve` or any fetch-style router as it is; `toNodeListener` adapts it to `node:http`.
 * Give the mount path as `basePath` so that routes are matched below it (required when the
 * mount path ends with one of the sub-path names above, such as `/stats`).
 *
 * @param queue The queue to serve.
 * @param options Limits, authorization, logging and a shutdown signal.
 * @returns The handler.
 * @throws {TypeError} If `queue` is not a queue or an option has the wrong type.
 * @throws {RangeError} If a limit is out of range.
 *
 * @example Sending and receiving through the handler, without a server
 * ```ts
 * import { open, Queue, setup } from "@qite/qite";
 * import { createHandler } from "@qite/qite/http";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * setup(db);
 * const handler = createHandler(new Queue({ db, name: "emails" }));
 *
 * const sent = await handler(
 *   new Request("http://localhost/", {
 *     method: "POST",
 *     body: JSON.stringify({ Message: { Body: btoa("hello") } }),
 *   }),
 * );
 * assert.equal(sent.status, 200);
 *
 * const received = await handler(new Request("http://localhost/"));
 * const { Message } = await received.json();
 * assert.equal(atob(Message.Body), "hello");
 * assert.equal((await handler(new Request("http://localhost/"))).status, 204);
 * ```
 *
 * @example Mounting it under a path in a server
 * ```ts ignore
 * import { open, Queue, setup } from "@qite/qite";
 * import { createHandler, toNodeListener } from "@qite/qite/http";
 *
 * const db = open("app.db");
 * setup(db);
 * const emails = createHandler(new Queue({ db, name: "emails" }), {
 *   basePath: "/api/emails",
 *   authorize: (request) => request.headers.get("authorization") === "Bearer s3cret",
 * });
 * const app = (request: Request): Promise<Response> =>
 *   new URL(request.url).pathname.startsWith("/api/emails")
 *     ? emails(request)
 *     : Promise.resolve(new Response("not found", { status: 404 }));
 *
 * Deno.serve({ port: 8080 }, app);
 * // Bun.serve({ port: 8080, fetch: app });
 * // (await import("node:http")).createServer(toNodeListener(app)).listen(8080);
 * // Hono: app.all("/api/emails/*", (c) => emails(c.req.raw)), or, since mount() strips the
 * // prefix, app.mount("/api/emails", createHandler(queue, { basePath: "/" }))
 * ```
 */
export function createHandler(queue: QueueLike, options: HandlerOptions = {}): Handler {
  const context = handlerContext(queue, options);
  const { basePath } = context;
  return (request: Request): Promise<Response> => {
    let pathname: string;
    try {
      pathname = urlOf(request).pathname;
    } catch (error) {
      return Promise.resolve(failure(context, request, error));
    }
    if (basePath === undefined) return handleRequest(context, request, routeOf(pathname));
    const rest = below(pathname, basePath);
    if (rest !== undefined && Object.hasOwn(ALLOWED, rest)) {
      return handleRequest(context, request, rest as Route);
    }
    return Promise.resolve(
      notImplemented(request.method) ?? text(404, `not found: no route at ${pathname}`),
    );
  };
}

/**
 * The request's URL. Some servers pass on a URL that does not parse (Bun, given `Host: a b`);
 * that is the client's mistake, so it is a `WireError` (400).
 */
export function urlOf(request: Request): URL {
  try {
    return new URL(request.url);
  } catch {
    throw new WireError("bad request: the URL (or the Host header) does not parse");
  }
}

/** The route a path ends with (`""` for goqite's own), when there is no `basePath`. */
function routeOf(pathname: string): Route {
  const segments = pathname.split("/").filter((segment) => segment !== "");
  const last = segments[segments.length - 1];
  const previous = segments[segments.length - 2];
  if (previous === "dead" && (last === "count" || last === "redrive")) return `dead/${last}`;
  if (
    last === "stats" || last === "peek" || last === "dead" || last === "purge" ||
    last === "release" || last === "bury"
  ) return last;
  return "";
}

/**
 * Answers one request on a known route; what every entry point (handler, server) calls.
 *
 * @param context The handler's settings and queue.
 * @param request The request.
 * @param route The route below the mount point.
 * @returns The response; it never rejects.
 */
export async function handleRequest(
  context: HandlerContext,
  request: Request,
  route: Route,
): Promise<Response> {
  const method = request.method;
  const unknown = notImplemented(method);
  if (unknown !== undefined) return unknown;
  const crossSite = crossSiteReason(request, urlOf(request));
  if (crossSite !== undefined) return text(403, crossSite);
  try {
    const refused = await authorize(context, request);
    if (refused !== undefined) return refused;
    const allowed = ALLOWED[route];
    if (method === "OPTIONS") {
      return new Response(null, { status: 204, headers: { allow: allowed.join(", ") } });
    }
    if (!allowed.includes(method)) {
      return text(405, `method ${method} is not allowed here`, { allow: allowed.join(", ") });
    }
    return await dispatch(context, request, route, method);
  } catch (error) {
    return failure(context, request, error);
  }
}

/** 501 for a method the handler does not know, else `undefined`. */
export function notImplemented(method: string): Response | undefined {
  return KNOWN_METHODS.has(method) ? undefined : text(501, `method ${method} is not implemented`);
}

/**
 * Runs the `authorize` hook: `undefined` lets the request through, otherwise the answer to send
 * (403 for `false`). What the hook throws is thrown.
 */
export async function authorize(
  context: HandlerContext,
  request: Request,
): Promise<Response | undefined> {
  if (context.authorize === undefined) return undefined;
  const verdict = await context.authorize(request);
  if (verdict instanceof Response) return verdict;
  return verdict === true ? undefined : text(403, "forbidden");
}

function dispatch(
  context: HandlerContext,
  request: Request,
  route: Route,
  method: string,
): Promise<Response> | Response {
  const { queue } = context;
  const params = urlOf(request).searchParams;
  switch (`${method} ${route}`) {
    case "GET ":
      return receive(context, request, params);
    case "POST ":
      return withBody(context, request, false, (body) => send(context, body).then(toResponse));
    case "PUT ":
      return withBody(context, request, false, (body) => extend(context, body));
    case "DELETE ":
      return withBody(context, request, false, (body) => remove(context, body).then(toResponse));
    case "GET stats":
      return queue.stats().then((stats) =>
        json({
          Total: stats.total,
          Visible: stats.visible,
          InFlight: stats.inFlight,
          Delayed: stats.delayed,
          Dead: stats.dead,
          OldestVisibleAge: stats.oldestVisibleAge === undefined
            ? null
            : stats.oldestVisibleAge * 1_000_000,
        })
      );
    case "GET peek":
      return queue.peek({
        limit: Math.min(integerParam(params, "limit", 1) ?? 10, context.maxBatchSize),
        state: peekState(params.get("state")),
        bodyBytes: integerParam(params, "bodyBytes", 0),
      })
        .then((messages) => json({ Messages: messages.map(toInfoJson) }));
    case "GET dead": {
      const cursor = params.get("cursor") ?? undefined;
      const limit = Math.min(integerParam(params, "limit", 1) ?? 100, context.maxBatchSize);
      return queue.listDead({ limit, cursor, bodyBytes: integerParam(params, "bodyBytes", 0) })
        .then(
          (page) => json({ Messages: page.messages.map(toInfoJson), Cursor: page.cursor ?? null }),
          (error: unknown) => {
            // The queue checks the cursor's shape (each engine has its own): the client's mistake.
            if (cursor !== undefined && error instanceof TypeError) {
              throw new WireError(
                `cursor must be a Cursor from a previous page: current value is ${excerpt(cursor)}`,
              );
            }
            throw error;
          },
        );
    }
    case "GET dead/count":
      return queue.countDead().then((count) => json({ Count: count }));
    case "POST dead/redrive":
      return withBody(context, request, true, async (body) => {
        if (body.message !== undefined || body.messages !== undefined) {
          throw new WireError("a redrive takes IDs (a list of message ids), or nothing for all");
        }
        return json({ Count: await queue.redrive(body.ids) });
      });
    case "DELETE dead":
      return queue.purgeDead().then((count) => json({ Count: count }));
    case "POST release":
      return withBody(context, request, false, (body) => handBack(context, body));
    case "POST bury":
      return withBody(context, request, false, (body) => bury(context, body));
    default: // POST purge
      return queue.purge().then((count) => json({ Count: count }));
  }
}

/** GET: goqite's receive and long poll, and qite's batch receive (`?max=`). */
async function receive(
  context: HandlerContext,
  request: Request,
  params: URLSearchParams,
): Promise<Response> {
  const { queue } = context;
  const batch = params.has("max");
  // "Up to max": asking for more than a batch may hold gets a full batch.
  const max = batch ? Math.min(integerParam(params, "max", 1) ?? 1, context.maxBatchSize) : 1;
  const window = pollWindow(new URL(request.url).search.slice(1));
  let messages: Message[];
  if (window === undefined) {
    messages = batch ? await queue.receiveBatch(max) : [await queue.receive()].filter(isMessage);
  } else {
    const { timeout, interval } = window;
    const received = await longPoll(context, request, max, timeout, interval);
    if (received === undefined) return new Response(null, { status: 204 });
    messages = received;
  }
  return toResponse(await received(context, messages, batch, () => request.signal.aborted));
}

/**
 * The answer to a GET that received `messages`: 204 when there are none, or when the client is
 * gone (`gone()`), in which case they are handed back rather than hidden for a whole timeout.
 */
async function received(
  context: HandlerContext,
  messages: readonly Message[],
  batch: boolean,
  gone: () => boolean,
): Promise<Answer> {
  const { queue } = context;
  if (messages.length === 0) return NO_CONTENT;
  if (gone()) {
    await release(context, messages);
    return NO_CONTENT;
  }
  counted(context, "receive", messages.length);
  if (batch) return jsonAnswer({ Messages: messages.map(toMessageJson) }, leaseHeaders(queue));
  const [message] = messages as [Message];
  return jsonAnswer({
    Message: {
      ID: message.id,
      Body: encodeBase64(message.body),
      Delay: 0,
      Priority: message.priority,
    },
  }, {
    "qite-received": String(message.received),
    "qite-delivery": message.delivery,
    ...leaseHeaders(queue),
  });
}

const NO_CONTENT: Answer = { status: 204, headers: {}, body: null };

/**
 * goqite's three hot routes, answered without a `Request`: `POST` (send) and `DELETE` with the
 * whole body read, and `GET` without a query (one message, no long poll). Whoever calls it has
 * checked what the Web-standard path checks first (route, method, no `authorize`, an accepted
 * Content-Type, a body within `maxRequestSize`): from there on both paths run the same code.
 *
 * @param context The queue's handler settings.
 * @param method `POST`, `GET` or `DELETE`.
 * @param url The request's URL, for the logger.
 * @param body The request body (empty for `GET`).
 * @param gone Whether the client has gone away.
 * @returns The answer; it never rejects.
 */
export async function answerHot(
  context: HandlerContext,
  method: FastMethod,
  url: string,
  body: Uint8Array,
  gone: () => boolean,
): Promise<Answer> {
  try {
    if (method === "GET") {
      return await received(
        context,
        [await context.queue.receive()].filter(isMessage),
        false,
        gone,
      );
    }
    const decoded = decodeRequest(body, { allowEmpty: false });
    return await (method === "POST" ? send(context, decoded) : remove(context, decoded));
  } catch (error) {
    return failureAnswer(context, method, url, error);
  }
}

/** Whether a Content-Type (or none) is one the handler reads bodies of. */
export function acceptedType(type: string | null | undefined): boolean {
  return type === null || type === undefined ||
    ACCEPTED_TYPES.test(type.split(";")[0]!.trim().toLowerCase());
}

/** A long poll's timeout and interval, in nanoseconds. */
export interface PollWindow {
  readonly timeout: bigint;
  readonly interval: bigint;
}

/**
 * Reads a GET's `timeout` and `interval` as goqite does: from the query as Go's `net/url` parses
 * it (`r.URL.Query().Get`), with Go's durations and goqite's bounds.
 *
 * @param rawQuery The URL's query, without the `?`.
 * @returns `undefined` for a plain receive (no or an empty `timeout`), else the long poll's
 * window.
 * @throws {WireError} With goqite's message when a duration does not parse or is out of range.
 */
export function pollWindow(rawQuery: string): PollWindow | undefined {
  const query = parseGoQuery(rawQuery);
  const timeoutText = query.get("timeout")?.[0] ?? "";
  if (timeoutText === "") return undefined;
  const timeout = duration(timeoutText, "timeout");
  if (timeout <= 0n || timeout > MAX_WAIT_NS) {
    throw new WireError("timeout must be between 0 (exclusive) and 20 (inclusive) seconds");
  }
  let interval = timeout < DEFAULT_INTERVAL_NS ? timeout : DEFAULT_INTERVAL_NS;
  const intervalText = query.get("interval")?.[0] ?? "";
  if (intervalText !== "") {
    interval = duration(intervalText, "interval");
    if (interval <= 0n || interval > timeout) {
      throw new WireError("interval must be between 0 (exclusive) and timeout (inclusive)");
    }
  }
  return { timeout, interval };
}

/** Waits up to `timeout` for messages; `undefined` when the wait ended without any. */
async function longPoll(
  context: HandlerContext,
  request: Request,
  max: number,
  timeout: bigint,
  interval: bigint,
): Promise<Message[] | undefined> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  const timer = setTimeout(stop, Number((timeout + NS_PER_MS - 1n) / NS_PER_MS));
  const signals = [request.signal, context.signal].filter((s): s is AbortSignal => s !== undefined);
  for (const signal of signals) {
    if (signal.aborted) stop();
    signal.addEventListener("abort", stop, { once: true });
  }
  try {
    const options = { signal: controller.signal, interval: Number(interval) / 1e6 };
    return await context.queue.receiveBatchAndWait(max, options);
  } catch (error) {
    if (controller.signal.aborted) return undefined;
    throw error;
  } finally {
    clearTimeout(timer);
    for (const signal of signals) signal.removeEventListener("abort", stop);
  }
}

/** POST: goqite's send, and qite's batch send (`Messages`). */
async function send(context: HandlerContext, body: WireRequest): Promise<Answer> {
  const { queue } = context;
  // The queue may have a limit of its own; the smaller one decides, so the queue never refuses.
  const maxBodySize = Math.min(
    context.maxBodySize,
    (queue as { maxBodySize?: number }).maxBodySize ?? Infinity,
  );
  const outgoing = (entry: WireMessage, where: string): SendMessage => {
    // goqite's order: the delay is checked before the queue refuses a nil body.
    if (entry.delay !== undefined && entry.delay < 0n) {
      throw new WireError(`delay cannot be negative${where}`);
    }
    if (entry.body === undefined) {
      // goqite binds a nil Body as NULL and answers 500 (body is NOT NULL); this is the client's
      // mistake, so qite says so.
      throw new WireError(`Body is missing or null${where}: send "" for an empty message`);
    }
    if (entry.body.length > maxBodySize) {
      throw new WireError(
        `Body must be at most ${maxBodySize} bytes${where}: current size is ${entry.body.length}`,
        413,
      );
    }
    return {
      body: entry.body,
      delay: toMilliseconds(entry.delay ?? 0n, `Delay${where}`),
      priority: toPriority(entry.priority ?? 0n),
    };
  };
  if (body.messages !== undefined) {
    const entries = batchOf(context, body);
    const outgoings = entries.map((entry, i) => outgoing(entry, entryAt(i)));
    const ids = await queue.sendBatch(outgoings).catch(refusedValue);
    counted(context, "send", ids.length);
    return jsonAnswer({ IDs: ids });
  }
  const message = single(body);
  const id = await queue.send(outgoing(message, "")).catch(refusedValue);
  counted(context, "send", 1);
  return { status: 200, headers: id === undefined ? {} : { "qite-message-id": id }, body: null };
}

/**
 * A value the wire allows and the queue's engine does not (a priority beyond PostgreSQL's 32-bit
 * column) is the client's mistake: 400 with the queue's reason, not 500.
 */
function refusedValue(error: unknown): never {
  if (error instanceof RangeError) throw new WireError(error.message);
  throw error;
}

/** PUT: goqite's extend, fenced with `Delivery`, and qite's batch extend. */
async function extend(context: HandlerContext, body: WireRequest): Promise<Response> {
  const { queue } = context;
  const parse = (entry: WireMessage, where: string): [MessageId | Receipt, number] => {
    const target = targetOf(entry, where);
    if (entry.delay === undefined || entry.delay <= 0n) {
      throw new WireError(`delay must larger than zero${where}`);
    }
    return [target, toMilliseconds(entry.delay, `Delay${where}`)];
  };
  if (body.messages !== undefined) {
    const entries = batchOf(context, body).map((entry, i) => parse(entry, entryAt(i)));
    // One call per distinct delay: atomic when every entry has the same one.
    const results: boolean[] = new Array(entries.length);
    for (const delay of new Set(entries.map(([, delay]) => delay))) {
      const at = entries.flatMap(([, d], i) => d === delay ? [i] : []);
      const done = await queue.extendBatch(at.map((i) => entries[i]![0]), delay);
      at.forEach((i, j) => results[i] = done[j]!);
    }
    return json({ Results: results });
  }
  const [target, delay] = parse(single(body), "");
  return toResponse(applied(await queue.extend(target, delay), target));
}

/** DELETE: goqite's delete, fenced with `Delivery`, and qite's batch delete. */
async function remove(context: HandlerContext, body: WireRequest): Promise<Answer> {
  const { queue } = context;
  if (body.messages !== undefined) {
    const targets = batchOf(context, body).map((entry, i) => targetOf(entry, entryAt(i)));
    const results = await queue.deleteBatch(targets);
    counted(context, "delete", results.filter((done) => done).length);
    return jsonAnswer({ Results: results });
  }
  const target = targetOf(single(body), "");
  const done = await queue.delete(target);
  counted(context, "delete", done ? 1 : 0);
  return applied(done, target);
}

/** Tells the `onOperation` hook about messages sent, received or deleted (none: nothing). */
function counted(context: HandlerContext, operation: Operation, count: number): void {
  if (count === 0 || context.onOperation === undefined) return;
  try {
    context.onOperation({ queue: context.queue.name, operation, count });
  } catch (error) {
    log(context.logger, "The onOperation hook threw", {
      queue: context.queue.name,
      error: describeError(error),
    });
  }
}

/** POST release: hands received messages back uncounted (fenced; qite's own route). */
async function handBack(context: HandlerContext, body: WireRequest): Promise<Response> {
  const entries = body.messages !== undefined ? batchOf(context, body) : [single(body)];
  const receipts = entries.map((entry, i) => {
    const where = body.messages === undefined ? "" : entryAt(i);
    const target = targetOf(entry, where);
    if (typeof target === "string") throw new WireError(`Delivery is missing${where}`);
    if (entry.delay !== undefined && entry.delay < 0n) {
      throw new WireError(`delay cannot be negative${where}`);
    }
    return [target, toMilliseconds(entry.delay ?? 0n, `Delay${where}`)] as const;
  });
  const results: boolean[] = new Array(receipts.length);
  for (const delay of new Set(receipts.map(([, delay]) => delay))) {
    const at = receipts.flatMap(([, d], i) => d === delay ? [i] : []);
    const done = await context.queue.releaseBatch(at.map((i) => receipts[i]![0]), delay);
    at.forEach((i, j) => results[i] = done[j]!);
  }
  return json({ Results: results });
}

/** POST bury: makes received messages dead at once (fenced; qite's own route). */
async function bury(context: HandlerContext, body: WireRequest): Promise<Response> {
  const entries = body.messages !== undefined ? batchOf(context, body) : [single(body)];
  const results: boolean[] = [];
  for (const [i, entry] of entries.entries()) {
    const where = body.messages === undefined ? "" : entryAt(i);
    const target = targetOf(entry, where);
    if (typeof target === "string") throw new WireError(`Delivery is missing${where}`);
    results.push(await context.queue.bury(target));
  }
  return json({ Results: results });
}

/** 200 with `Qite-Applied`, or 409 when a fenced operation found another delivery. */
function applied(done: boolean, target: MessageId | Receipt): Answer {
  if (!done && typeof target === "object") {
    return textAnswer(409, "the message is no longer held by this delivery (Delivery)");
  }
  return { status: 200, headers: { "qite-applied": String(done) }, body: null };
}

/**
 * goqite's `Message`: as decoded, or all zero values when the request had none. `"Message":
 * false` (qite's client's mark on requests only qite understands) is refused here, as goqite
 * refuses it.
 */
function single(body: WireRequest): WireMessage {
  if (body.notForGoqite) throw falseMessageError();
  return body.message ?? {};
}

function batchOf(context: HandlerContext, body: WireRequest): WireMessage[] {
  const entries = body.messages!;
  if (body.message !== undefined) {
    throw new WireError("give either Message or Messages, not both");
  }
  if (entries.length > context.maxBatchSize) {
    throw new WireError(
      `Messages must hold at most ${context.maxBatchSize} entries: current count is ${entries.length}`,
    );
  }
  return entries;
}

function entryAt(i: number): string {
  return ` (Messages[${i}])`;
}

function targetOf(entry: WireMessage, where: string): MessageId | Receipt {
  if (entry.id === undefined || entry.id === "") throw new WireError(`ID cannot be empty${where}`);
  if (entry.delivery === undefined) return entry.id;
  if (entry.delivery === "") throw new WireError(`Delivery cannot be empty${where}`);
  return { id: entry.id, delivery: entry.delivery };
}

/**
 * Nanoseconds to whole milliseconds, rounding up so that a positive delay stays positive. Every
 * Go duration fits: the longest, 2^63 − 1 ns, is `MAX_DURATION_MS` once rounded up.
 */
function toMilliseconds(ns: bigint, field: string): number {
  const ms = (ns + NS_PER_MS - 1n) / NS_PER_MS;
  if (ms > BigInt(MAX_DURATION_MS)) {
    throw new WireError(
      `${field} must be at most ${MAX_DURATION_MS} ms: current value is ${ns} ns`,
    );
  }
  return Number(ms);
}

/** A 64-bit priority: a number when it is a safe integer, else the bigint itself. */
function toPriority(priority: bigint): number | bigint {
  return priority >= BigInt(Number.MIN_SAFE_INTEGER) && priority <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(priority)
    : priority;
}

function duration(value: string, name: string): bigint {
  try {
    return parseGoDuration(value);
  } catch (error) {
    throw new WireError(`error parsing ${name} parameter: ${(error as Error).message}`);
  }
}

function peekState(value: string | null): PeekState {
  if (value === null || value === "" || value === "visible") return "visible";
  if (value === "delayed" || value === "inFlight") return value;
  throw new WireError(`state must be visible, delayed or inFlight: current value is ${value}`);
}

/** A whole-number query parameter from `min` to 2^31 - 1, or `undefined` when absent or empty. */
function integerParam(params: URLSearchParams, name: string, min: number): number | undefined {
  const max = 2 ** 31 - 1;
  const value = params.get(name);
  if (value === null || value === "") return undefined;
  const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    throw new WireError(
      `${name} must be an integer from ${min} to ${max}: current value is ${excerpt(value)}`,
    );
  }
  return n;
}

/** Reads and decodes a request body within the size limit, then runs `fn` on it. */
async function withBody(
  context: HandlerContext,
  request: Request,
  allowEmpty: boolean,
  fn: (body: WireRequest) => Promise<Response>,
): Promise<Response> {
  const type = request.headers.get("content-type");
  if (type !== null && !acceptedType(type)) {
    await request.body?.cancel().catch(() => {});
    return text(415, `Content-Type must be application/json: current value is ${excerpt(type)}`);
  }
  const bytes = await readBody(request, context.maxRequestSize);
  if (bytes === undefined) {
    return text(413, `the request body must be at most ${context.maxRequestSize} bytes`);
  }
  return fn(decodeRequest(bytes, { allowEmpty }));
}

/**
 * Reads the body, or returns `undefined` when it exceeds `limit`: unread when its Content-Length
 * says so, else as soon as the bytes read pass it.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array | undefined> {
  const length = request.headers.get("content-length");
  if (length !== null) {
    if (Number(length) > limit) {
      await request.body?.cancel().catch(() => {});
      return undefined;
    }
    // The declared length bounds the body (the server's HTTP framing holds it to it), and one
    // arrayBuffer(), with request.body left untouched, costs far less than reading the stream
    // in chunks on Bun's and Deno's server requests.
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await request.arrayBuffer());
    } catch (error) {
      throw new WireError(`error reading request: ${describeError(error)}`);
    }
    return bytes.length > limit ? undefined : bytes;
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } catch (error) {
    throw new WireError(`error reading request: ${describeError(error)}`);
  }
  return chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
}

/** Hands messages back uncounted (the client that asked for them is gone). */
async function release(context: HandlerContext, messages: readonly Message[]): Promise<void> {
  try {
    await context.queue.releaseBatch(messages, 0);
  } catch (error) {
    log(context.logger, "Cannot hand back messages of a client that went away", {
      queue: context.queue.name,
      error: describeError(error),
    });
  }
}

/**
 * Turns a thrown error into a response. Only qite's own checks of the request (a `WireError`)
 * answer 4xx with their message; anything else, a `TypeError` from the `authorize` hook included,
 * is a 5xx without detail, and the cause goes to the logger.
 */
export function failure(context: HandlerContext, request: Request, error: unknown): Response {
  return toResponse(failureAnswer(context, request.method, request.url, error));
}

function failureAnswer(
  context: HandlerContext,
  method: string,
  url: string,
  error: unknown,
): Answer {
  if (error instanceof WireError) return textAnswer(error.status, error.message);
  const busy = error instanceof QueueError &&
    (error.code === "BUSY" || error.code === "LOCKED" || error.code === "CLOSED" ||
      error.code === "NETWORK");
  log(context.logger, "Cannot answer a queue request", {
    queue: context.queue.name,
    method,
    url,
    error: describeError(error),
    ...(error instanceof QueueError ? { code: error.code } : {}),
  });
  return busy
    ? textAnswer(503, "the queue is unavailable; try again", { "retry-after": "1" })
    : textAnswer(500, "internal server error");
}

/** The queue's settings, for clients that run jobs (qite's client reads them). */
function leaseHeaders(queue: QueueLike): Record<string, string> {
  return { "qite-timeout": String(queue.timeout), "qite-max-receive": String(queue.maxReceive) };
}

function toMessageJson(message: Message): Record<string, unknown> {
  return {
    ID: message.id,
    Body: encodeBase64(message.body),
    Delay: 0,
    Priority: message.priority,
    Received: message.received,
    Delivery: message.delivery,
  };
}

function toInfoJson(message: MessageInfo): Record<string, unknown> {
  return {
    ...toMessageJson(message),
    Created: message.created.toISOString(),
    Timeout: message.timeout.toISOString(),
    Size: message.size,
  };
}

function isMessage(message: Message | undefined): message is Message {
  return message !== undefined;
}

/** An answer as a `Response`. */
export function toResponse(answer: Answer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

function json(value: unknown): Response {
  return toResponse(jsonAnswer(value));
}

function jsonAnswer(value: unknown, headers: Record<string, string> = {}): Answer {
  return { status: 200, headers: { ...JSON_HEADERS, ...headers }, body: goJson(value) };
}

/** A plain-text answer, as Go's `http.Error` writes it. */
export function text(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return toResponse(textAnswer(status, message, headers));
}

function textAnswer(status: number, message: string, headers: Record<string, string> = {}): Answer {
  return {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      ...headers,
    },
    body: `${message}\n`,
  };
}
